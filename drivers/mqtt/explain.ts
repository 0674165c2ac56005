import type { Router } from './router.js';

/** How a device will be read, for `fcgw explain`: broker, topic, envelope, codec and mappings. */
export function explainDevice(router: Router, deviceId: string, url: string): string[] {
  const d = router.devices.get(deviceId);
  if (!d) {
    const rules = router.rules.map((r) => `  discovery: ${r.rule.topic} → id "${r.rule.id}" (${r.rule.class}, profile ${r.rule.profile})`);
    return [`device ${deviceId} is not configured on this connection (yet); it may appear through discovery:`, ...rules];
  }
  const p = d.profile;
  const lines = [
    `broker ${url}, subscribe "${router.topics.get(d.id) ?? '(discovered)'}" QoS 1; acknowledged after commit`,
    `envelope ${d.envelope}${p.codec ? `, codec ${p.codec}${p.prefer_decoded ? " (unless the network server's decoded object is present)" : ''}` : ''}`,
    `timestamp: ${p.timestamp ? [p.timestamp].flat().map((t) => `${t.path} (${t.format})`).join(' or ') : d.envelope === 'json' ? 'receive time' : 'envelope time, else receive time'}`,
  ];
  for (const r of p.readings)
    lines.push(`  ${r.metric} ← ${r.each ? `${r.each}[].` : ''}${r.path}${r.unit ? ` [${r.unit}]` : ''}${r.scale !== undefined ? ` ×${r.scale}` : ''}${r.map ? ' (mapped)' : ''}`);
  for (const e of p.events) {
    const when = e.when ? (Array.isArray(e.when) ? e.when : [e.when]).map((c) => `${c.path}${c.equals !== undefined ? `=${String(c.equals)}` : c.in ? ` in [${c.in.join(',')}]` : ''}`).join(' & ') : 'always';
    lines.push(`  event ${e.type} when ${when}: ${Object.keys(e.attributes).join(', ') || '(no attributes)'}`);
  }
  if (p.passthrough) lines.push(`  catalog names as sent: values at "${p.passthrough.values ?? '-'}", events at "${p.passthrough.events ?? '-'}"`);
  return lines;
}
