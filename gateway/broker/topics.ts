/** MQTT topic filter matching (`+` one level, `#` the rest), as brokers do it. */
export function topicMatches(filter: string, topic: string): boolean {
  if (filter === '#') return !topic.startsWith('$');
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const seg = f[i];
    if (seg === '#') return i > 0 || !topic.startsWith('$');
    if (i >= t.length) return false;
    if (seg === '+') {
      if (i === 0 && t[0]?.startsWith('$')) return false;
      continue;
    }
    if (seg !== t[i]) return false;
  }
  return f.length === t.length;
}
