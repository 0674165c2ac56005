/**
 * MQTT topic filter matching (`+` one level, `#` the rest), as brokers do it: a filter that
 * starts with a wildcard never matches a topic that starts with `$` (MQTT 3.1.1 §4.7.2).
 */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '#' || f[0] === '+')) return false;
  for (let i = 0; i < f.length; i++) {
    const seg = f[i];
    if (seg === '#') return true;
    if (i >= t.length) return false;
    if (seg === '+') continue;
    if (seg !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * True when every topic the `requested` subscription filter can match is matched by `allowed`:
 * `a/#` does not cover a request for `#`, `a/+` does not cover `a/#`, and no wildcard covers
 * `$SYS/...`.
 */
export function filterCovers(allowed: string, requested: string): boolean {
  const a = allowed.split('/');
  const r = requested.split('/');
  if (requested.startsWith('$') && (a[0] === '#' || a[0] === '+')) return false;
  for (let i = 0; i < a.length; i++) {
    const seg = a[i];
    if (seg === '#') return true;
    if (i >= r.length) return false;
    const req = r[i];
    if (req === '#') return false;
    if (seg === '+') continue;
    if (req === '+' || seg !== req) return false;
  }
  return a.length === r.length;
}
