import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { DriverFactory } from '../../drivers/core/driver.js';
import type { GoldenDecoded, GoldenDoc } from '../../drivers/core/golden.js';
import type { Profile } from '../../drivers/profiles/schema.js';
import type { DeviceConfig } from '../config/schema.js';
import type { EventReading, Reading } from '../model/types.js';
import { CounterState } from '../pipeline/counters.js';
import { Dedupe, normalise } from '../pipeline/normalise.js';
import { Pseudonymiser } from '../pipeline/pseudonymise.js';
import { seriesFacts } from '../site/facts.js';
import { byMetric, diffItems } from './compare.js';

/**
 * The one golden-case runner: `fcgw profile test` and the repository's own test/golden/* call it.
 * The profile's driver decodes each case's raw input (DriverFactory.golden), then the readings go
 * through the pipeline's normaliser (catalog units, quality, counter checks with the profile's
 * point facts), and each case is compared with what it expects:
 *
 * - `readings:` what the driver reports (native units), `ts` and `device` only where given;
 * - `samples:` (or `sample:` for one) what the store keeps: catalog units, quality, reason;
 * - `events:` decoded events; `reject:` the reason the input is refused.
 *
 * A case may give several. A case that expects nothing is a failure (it would prove nothing).
 */
export interface CaseResult {
  name: string;
  ok: boolean;
  /** Readable difference (`- expected`, `+ got`) and problems of the case itself. */
  diff: string[];
  /** What came out, in the form a case expects it (to write a case from a run: `fcgw new-profile`). */
  got: { readings: Record<string, unknown>[]; samples: Record<string, unknown>[]; reject?: string };
}

export interface GoldenReport {
  profile: string;
  cases: CaseResult[];
  /** The file could not run at all (no driver golden runner, wrong profile…). */
  problems: string[];
}

/** A fixed site secret for event pseudonyms in golden runs (never a real site's). */
const GOLDEN_SECRET = Buffer.from('golden-cases-are-not-a-site-0000');

const time = (v: unknown): number | undefined => (typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : undefined);

function readingItems(list: readonly Reading[], withTs: boolean, withDevice: boolean): Record<string, unknown>[] {
  return list
    .map(({ device, ts, ...r }) => ({ ...r, ...(withDevice ? { device } : {}), ...(withTs ? { ts } : {}) }))
    .sort(byMetric);
}

function wantItems(list: unknown, defaults: { device: string }): { items: Record<string, unknown>[]; ts: boolean; device: boolean } {
  const items = (Array.isArray(list) ? list : []).map((x) => ({ ...(x as Record<string, unknown>) }));
  const ts = items.some((i) => i['ts'] !== undefined);
  const device = items.some((i) => i['device'] !== undefined);
  for (const i of items) {
    if (ts) i['ts'] = time(i['ts']);
    if (device) i['device'] ??= defaults.device;
  }
  return { items: items.sort(byMetric), ts, device };
}

/** Run a parsed golden file against a loaded profile with its driver. */
export async function runGoldenDoc(doc: GoldenDoc, profile: Profile, driver: DriverFactory): Promise<GoldenReport> {
  const report: GoldenReport = { profile: profile.id, cases: [], problems: [] };
  if (!driver.golden) {
    report.problems.push(`the ${profile.protocol} driver has no golden cases`);
    return report;
  }
  if (!Array.isArray(doc.cases) || doc.cases.length === 0) {
    report.problems.push('no cases (a list under `cases:`)');
    return report;
  }
  let decoded: GoldenDecoded[];
  try {
    decoded = await driver.golden(profile, doc);
  } catch (err) {
    report.problems.push(`the cases could not be decoded: ${(err as Error).message}`);
    return report;
  }
  const pseudo = new Pseudonymiser(GOLDEN_SECRET);
  doc.cases.forEach((c, i) => {
    const d = decoded[i] as GoldenDecoded;
    const name = typeof c['name'] === 'string' ? c['name'] : `case ${i + 1}`;
    const diff: string[] = [...(d.problems ?? []).map((p) => `! ${p}`)];
    let expected = 0;
    if (c['reject'] !== undefined) {
      expected++;
      if (d.reject !== c['reject']) diff.push(`- reject=${String(c['reject'])}`, d.reject ? `+ reject=${d.reject}` : `+ accepted: ${d.readings.length} readings, ${d.events.length} events`);
    } else if (d.reject) diff.push(`+ reject=${d.reject} (the case expects it accepted)`);
    if (c['readings'] !== undefined) {
      expected++;
      const want = wantItems(c['readings'], d);
      diff.push(...diffItems(want.items, readingItems(d.readings, want.ts, want.device)));
    }
    if (c['events'] !== undefined) {
      expected++;
      const want = wantItems(c['events'], d);
      const got = d.events.map(({ device, ts, ...e }: EventReading) => ({ ...e, ...(want.device ? { device } : {}), ...(want.ts ? { ts } : {}) }));
      diff.push(...diffItems(want.items, got));
    }
    const sampleWant = c['samples'] ?? (c['sample'] !== undefined ? [{ metric: c['metric'], ...(c['sample'] as object) }] : undefined);
    const device: DeviceConfig = { id: d.device, class: d.class, connection: 'golden', profile: profile.id, tags: {}, options: (c['options'] as DeviceConfig['options'] | undefined) ?? {}, enabled: true };
    const facts = seriesFacts(device, driver.pointFacts?.(profile, d.class) ?? new Map()).series;
    // Each case stands alone in the pipeline (fresh counter and duplicate state): a case is a
    // snapshot, and its expected samples must not depend on the cases before it.
    const latest = Math.max(0, ...d.readings.map((r) => r.ts), ...d.events.map((e) => e.ts));
    const res = normalise(
      { readings: d.readings, events: d.events },
      {
        site: 'golden',
        deviceClass: (id) => (id === d.device ? d.class : undefined),
        counters: new CounterState(),
        dedupe: new Dedupe(),
        pseudo,
        now: () => latest + 60_000,
        counterFacts: (_dev, metric) => {
          const f = facts.get(metric);
          return f ? { max: f.counterMax?.catalog, scale: f.scale, rawRange: f.rawRange } : undefined;
        },
      },
    );
    const samples = res.samples.map((s) => ({ metric: s.metric, value: s.value, quality: s.quality, ...(s.reason !== undefined ? { reason: s.reason } : {}), device: s.device, ts: s.ts })).sort(byMetric);
    if (sampleWant !== undefined) {
      expected++;
      for (const r of res.rejections) diff.push(`! the pipeline refused a reading: ${r.reason}: ${r.detail}`);
      const want = wantItems(sampleWant, d);
      for (const w of want.items) w['quality'] ??= 'good';
      const got = samples.map(({ device: dev, ts, ...s }) => ({ ...s, ...(want.device ? { device: dev } : {}), ...(want.ts ? { ts } : {}) }));
      diff.push(...diffItems(want.items, got));
    }
    const got = { readings: readingItems(d.readings, true, false), samples: samples.map(({ device: _d, ...s }) => s), ...(d.reject ? { reject: d.reject } : {}) };
    if (expected === 0) diff.push('! the case expects nothing: give readings, samples, events or reject');
    report.cases.push({ name, ok: diff.length === 0, diff, got });
  });
  return report;
}

/** Read a golden file (YAML); `profile:` in it must name the profile given, when it names one. */
export function readGoldenDoc(file: string): GoldenDoc {
  const doc = parse(readFileSync(file, 'utf8')) as unknown;
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${file}: a golden file is a mapping with profile and cases`);
  return doc as GoldenDoc;
}

/** The report as `fcgw profile test` prints it. */
export function reportText(file: string, r: GoldenReport): string {
  const lines: string[] = [];
  for (const p of r.problems) lines.push(`${file}: ${p}`);
  for (const c of r.cases) {
    lines.push(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}`);
    for (const d of c.diff) lines.push(`       ${d}`);
  }
  const failed = r.cases.filter((c) => !c.ok).length;
  lines.push(`${file}: profile ${r.profile}: ${r.cases.length} case${r.cases.length === 1 ? '' : 's'}, ${failed} failed`);
  return `${lines.join('\n')}\n`;
}
