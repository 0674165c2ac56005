import { stringify } from 'yaml';
import { POINT_TYPES } from '../../drivers/modbus/codecs.js';
import { CATALOG } from '../model/catalog.js';

/**
 * `fcgw new-profile`: a first profile from what an integrator has at hand — a register list
 * (CSV) for a Modbus device, or one sample payload (JSON) for an MQTT device. Pure: text in, YAML
 * text (or the problems of the input, by line) out. The result still goes through the one
 * validation and a golden run before it is written.
 */
export interface Scaffold {
  profile: Record<string, unknown>;
  problems: string[];
}

/** Split one CSV line (commas; double quotes around a field that holds one). */
function cells(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

const REQUIRED = ['address', 'type', 'metric'] as const;
const OPTIONAL = ['scale', 'unit', 'function', 'order', 'description'] as const;

/** A Modbus profile from a register list: a header line naming address, type, metric (and scale, unit, function, order). */
export function modbusFromCsv(id: string, cls: string, csv: string): Scaffold {
  const problems: string[] = [];
  const lines = csv.split(/\r?\n/).map((l, i) => ({ text: l, line: i + 1 })).filter((l) => l.text.trim() !== '' && !l.text.trimStart().startsWith('#'));
  const header = lines.shift();
  const cols = header ? cells(header.text).map((c) => c.toLowerCase()) : [];
  for (const c of REQUIRED) if (!cols.includes(c)) problems.push(`line ${header?.line ?? 1}: the header has no "${c}" column (columns: ${[...REQUIRED, ...OPTIONAL].join(', ')})`);
  const metrics = CATALOG[cls]?.metrics;
  if (!metrics) problems.push(`"${cls}" is not a catalog class (known: ${Object.keys(CATALOG).join(', ')})`);
  if (problems.length) return { profile: {}, problems };
  const points: Record<string, unknown>[] = [];
  for (const { text, line } of lines) {
    const row = Object.fromEntries(cells(text).map((v, i) => [cols[i] ?? `col${i}`, v]));
    const at = (m: string) => problems.push(`line ${line}: ${m}`);
    const address = Number(row['address']);
    if (!Number.isInteger(address) || address < 0 || address > 65535) at(`address "${row['address'] ?? ''}" is not a register number 0–65535`);
    const type = row['type'] ?? '';
    if (!(POINT_TYPES as readonly string[]).includes(type)) at(`type "${type}" is not one of ${POINT_TYPES.join(', ')}`);
    const metric = row['metric'] ?? '';
    if (!metrics?.[metric]) at(`"${metric}" is not a metric of ${cls} (its metrics: ${Object.keys(metrics ?? {}).join(', ')})`);
    const p: Record<string, unknown> = { metric, address, type };
    if (row['function']) p['function'] = row['function'];
    if (row['order']) p['order'] = row['order'];
    if (row['scale'] && row['scale'] !== '1') {
      const scale = Number(row['scale']);
      if (!Number.isFinite(scale)) at(`scale "${row['scale']}" is not a number`);
      p['scale'] = scale;
    }
    if (row['unit']) p['unit'] = row['unit'];
    if (metrics?.[metric]?.kind === 'counter') p['slow'] = true;
    points.push(p);
  }
  const profile = { id, description: `${id} (scaffolded from a register list: check it against the manual)`, classes: [cls], protocol: 'modbus', defaults: { function: 'holding', order: 'ABCD', poll: '10s' }, points };
  return { profile, problems };
}

/** An MQTT profile from one sample payload: each leaf named like a metric of the class becomes a reading. */
export function mqttFromPayload(id: string, cls: string, json: string): Scaffold {
  const metrics = CATALOG[cls]?.metrics;
  if (!metrics) return { profile: {}, problems: [`"${cls}" is not a catalog class (known: ${Object.keys(CATALOG).join(', ')})`] };
  let sample: unknown;
  try {
    sample = JSON.parse(json);
  } catch (err) {
    return { profile: {}, problems: [`the sample payload is not JSON: ${(err as Error).message}`] };
  }
  const readings: Record<string, unknown>[] = [];
  const unmatched: string[] = [];
  const walk = (v: unknown, path: string[]) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
      return;
    }
    if (typeof v !== 'number' && typeof v !== 'boolean' && typeof v !== 'string') return;
    const leaf = path[path.length - 1] ?? '';
    const metric = metrics[leaf] ? leaf : Object.keys(metrics).find((m) => leaf.toLowerCase().startsWith(m));
    if (metric) readings.push({ metric, path: path.join('.'), ...(metrics[metric]?.kind !== 'state' ? { unit: metrics[metric]?.unit } : {}) });
    else unmatched.push(path.join('.'));
  };
  walk(sample, []);
  const problems = readings.length ? [] : [`no field of the payload is named like a metric of ${cls} (${Object.keys(metrics).join(', ')}); map them by hand`];
  const profile: Record<string, unknown> = { id, description: `${id} (scaffolded from a sample payload: check units and paths)`, classes: [cls], protocol: 'mqtt', envelope: 'json', topic: 'devices/{device}/up', readings };
  if (unmatched.length) profile['x-unmapped'] = unmatched;
  return { profile, problems };
}

/** YAML text of a scaffolded profile (one point or reading a line), with a note on what to check. */
export function scaffoldText(s: Scaffold, source: string): string {
  const { 'x-unmapped': unmapped, points, readings, ...rest } = s.profile as Record<string, unknown> & { 'x-unmapped'?: string[]; points?: object[]; readings?: object[] };
  const head = [`# Scaffolded by fcgw new-profile from ${source}. Check every unit and scale against the`, '# device documentation, then give the golden case the documentation\'s example values.'];
  if (unmapped?.length) head.push(`# Not mapped (no catalog metric of that name): ${unmapped.join(', ')}`);
  const list = (key: string, items: object[] | undefined) => (items ? `${key}:\n${items.map((x) => `  - ${stringify(x, { collectionStyle: 'flow' }).trim()}`).join('\n')}\n` : '');
  return `${head.join('\n')}\n${stringify(rest, { collectionStyle: 'any' })}${list('points', points)}${list('readings', readings)}`;
}

/** Example raw input of a first golden case: one register image (Modbus) or the sample payload (MQTT). */
export function exampleCase(profile: Record<string, unknown>, sample?: unknown): Record<string, unknown> {
  if (profile['protocol'] === 'mqtt') return { name: 'the sample payload', payload: sample };
  const holding: Record<string, number[]> = {};
  const input: Record<string, number[]> = {};
  for (const p of (profile['points'] as { address: number; type: string; function?: string }[] | undefined) ?? []) {
    const words = /64/.test(p.type) ? 4 : /32/.test(p.type) ? 2 : 1;
    // Integers read as 1 (so the scale shows), floats as 0: replace with the manual's example.
    const raw = Array.from({ length: words }, (_, i) => (i === words - 1 && !p.type.startsWith('float') ? 1 : 0));
    (p.function === 'input' ? input : holding)[String(p.address)] = raw;
  }
  return { name: 'example registers (replace with the manual\'s example values)', registers: { holding, ...(Object.keys(input).length ? { input } : {}) } };
}

/** YAML text of a golden file: one line per sample, registers as flow lists. */
export function casesText(doc: { profile: string; cases: Record<string, unknown>[]; [k: string]: unknown }): string {
  const { cases, ...head } = doc;
  const flow = (x: unknown) => stringify(x, { collectionStyle: 'flow' }).trim();
  const out = [stringify(head).trim(), 'cases:'];
  for (const c of cases) {
    const { name, samples, registers, payload, ...rest } = c as { name: string; samples?: unknown[]; registers?: Record<string, Record<string, number[]>>; payload?: unknown };
    out.push(`  - name: ${flow(name)}`);
    for (const [k, v] of Object.entries(rest)) out.push(`    ${k}: ${flow(v)}`);
    if (payload !== undefined) out.push(`    payload: ${flow(payload)}`);
    if (registers) {
      out.push('    registers:');
      for (const [fn, regs] of Object.entries(registers)) {
        out.push(`      ${fn}:`);
        for (const [addr, words] of Object.entries(regs)) out.push(`        ${addr}: ${flow(words)}`);
      }
    }
    if (samples) out.push('    samples:', ...samples.map((x) => `      - ${flow(x)}`));
  }
  return `${out.join('\n')}\n`;
}
