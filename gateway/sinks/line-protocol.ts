import { PairMap } from '../model/pair-map.js';
import type { EventAttributes, GatewayEvent, Sample, SampleValue } from '../model/types.js';

/**
 * InfluxDB line protocol for samples and events (spec/metrics.md): measurement = class,
 * tags = site, device and the device's static tags (sorted by key, as InfluxDB prefers),
 * fields = the metric, timestamp in ms. A sample whose quality is not good carries a
 * `quality` string field (and `quality_reason`) in the same point; a sample without a value
 * carries `quality_metric` so a reader knows which metric is missing. An event is a point
 * whose field is the event type (value 1, so sum/count counts events) plus its attributes.
 * One line per record: a refused point is isolated down to one record.
 *
 * Escaping follows the InfluxDB reference (and the official client): measurement `,` and
 * space; tag keys, tag values and field keys `,` `=` and space; string field values `"` and
 * `\`. Line breaks cannot be escaped anywhere, so they are written as the two characters
 * `\n` (`\r`, `\t` likewise). A backslash before any other character is literal on both
 * InfluxDB 1.x and VictoriaMetrics; one at the end of a name, or right before a character
 * that gets escaped or another backslash, has no portable spelling (InfluxDB 1.6 rejects
 * `\\` at the end of a tag, VictoriaMetrics reads `\\` as one backslash), so it is written
 * as `/` (checked against both servers in test/integration/sinks/escaping.test.ts).
 */

/** Field names the encoder itself uses; no catalog metric or event attribute may take them. */
export const RESERVED_FIELDS = ['quality', 'quality_reason', 'quality_metric'] as const;

const CONTROL: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeWith(special: RegExp, ambiguous: RegExp, s: string): string {
  return s.replace(ambiguous, '/').replace(special, (c) => CONTROL[c] ?? `\\${c}`);
}

const MEASUREMENT_RE = /[, \n\r\t]/g;
const MEASUREMENT_BACKSLASH_RE = /\\(?=[, \n\r\t\\]|$)/g;
const KEY_RE = /[,= \n\r\t]/g;
const KEY_BACKSLASH_RE = /\\(?=[,= \n\r\t\\]|$)/g;
const STRING_RE = /["\\\n\r\t]/g;

export function escapeMeasurement(s: string): string {
  return escapeWith(MEASUREMENT_RE, MEASUREMENT_BACKSLASH_RE, s);
}

/** Tag keys, tag values and field keys. */
export function escapeKey(s: string): string {
  return escapeWith(KEY_RE, KEY_BACKSLASH_RE, s);
}

export function quoteString(s: string): string {
  return `"${s.replace(STRING_RE, (c) => CONTROL[c] ?? `\\${c}`)}"`;
}

/** A field value, or undefined when line protocol cannot carry it (NaN, ±Infinity). */
export function fieldValue(v: SampleValue): string | undefined {
  switch (typeof v) {
    case 'number':
      // Always a float (no `i` suffix): one metric never flips between integer and float types.
      return Number.isFinite(v) ? String(v) : undefined;
    case 'boolean':
      return v ? 'true' : 'false';
    case 'string':
      return quoteString(v);
  }
}

/** Tag keys a static device tag may not use: `time` is refused by InfluxDB, `_…` is InfluxDB 2's own. */
function usableTagKey(k: string): boolean {
  return k !== '' && k !== 'time' && !k.startsWith('_');
}

/** `measurement,tag=v,...` with tags sorted by key; empty tag values are left out (line protocol forbids them). */
export function seriesKey(measurement: string, tags: Record<string, string>): string {
  let out = escapeMeasurement(measurement);
  for (const k of Object.keys(tags).sort()) {
    const v = tags[k];
    if (v === undefined || v === '' || !usableTagKey(k)) continue;
    out += `,${escapeKey(k)}=${escapeKey(v)}`;
  }
  return out;
}

/** The tags of a point: static device tags, then site and device (which a static tag cannot override). */
export function pointTags(site: string, device: string, deviceTags: Record<string, string>): Record<string, string> {
  return { ...deviceTags, site, device };
}

/** Lines as one request body (InfluxDB's write APIs): newline-separated. */
export const joinLines = (lines: readonly string[]): string => lines.join('\n');

export class EncodeError extends Error {
  readonly code = 'SINK_UNENCODABLE';
}

function timestamp(ts: number): string {
  if (!Number.isFinite(ts)) throw new EncodeError(`timestamp ${ts} is not a number`);
  return String(Math.trunc(ts));
}

/** One sample as a line, given its series key (measurement + tags, from seriesKey). */
export function sampleLine(key: string, s: Pick<Sample, 'metric' | 'value' | 'quality' | 'reason' | 'ts'>): string {
  const fields: string[] = [];
  if (s.value !== null) {
    const v = fieldValue(s.value);
    if (v === undefined) throw new EncodeError(`value ${String(s.value)} of ${s.metric} cannot be written as line protocol`);
    fields.push(`${escapeKey(s.metric)}=${v}`);
  }
  if (s.quality !== 'good' || s.value === null) {
    fields.push(`quality=${quoteString(s.value === null && s.quality === 'good' ? 'bad' : s.quality)}`);
    if (s.reason) fields.push(`quality_reason=${quoteString(s.reason)}`);
    if (s.value === null) fields.push(`quality_metric=${quoteString(s.metric)}`);
  }
  return `${key} ${fields.join(',')} ${timestamp(s.ts)}`;
}

/** One event as a line: the event type as a field (value 1), its attributes as fields. */
export function eventLine(key: string, e: Pick<GatewayEvent, 'type' | 'ts' | 'attributes'>): string {
  const fields = [`${escapeKey(e.type)}=1`];
  for (const name of Object.keys(e.attributes).sort()) {
    const value = (e.attributes as EventAttributes)[name];
    if (name === e.type || value === undefined) continue;
    // An attribute that line protocol cannot carry as a number keeps its text.
    const v = fieldValue(value) ?? quoteString(String(value));
    fields.push(`${escapeKey(name)}=${v}`);
  }
  return `${key} ${fields.join(',')} ${timestamp(e.ts)}`;
}

/**
 * Encodes many records quickly: the series key (measurement and tags) of each device is
 * built once and reused until the device's tags object changes.
 */
export class LineEncoder {
  private readonly keys = new PairMap<{ site: string; tags: Record<string, string>; key: string }>();

  constructor(private readonly deviceTags: (device: string) => Record<string, string>) {}

  key(site: string, device: string, cls: string): string {
    const tags = this.deviceTags(device);
    const hit = this.keys.get(device, cls);
    if (hit && hit.tags === tags && hit.site === site) return hit.key;
    const key = seriesKey(cls, pointTags(site, device, tags));
    // Bounded: a flood of device ids must not grow this map without end.
    if (this.keys.size >= 100_000) this.keys.clear();
    this.keys.set(device, cls, { site, tags, key });
    return key;
  }

  sample(s: Sample): string {
    const key = this.key(s.site, s.device, s.class);
    const v = s.value;
    // The common case, a good finite number, without building a field list (same text as sampleLine).
    if (s.quality === 'good' && typeof v === 'number' && Number.isFinite(v) && Number.isFinite(s.ts)) return `${key} ${this.fieldKey(s.metric)}=${v} ${Math.trunc(s.ts)}`;
    return sampleLine(key, s);
  }

  private readonly fieldKeys = new Map<string, string>();

  /** A metric's escaped field key (metric names are few: the catalog's and the profiles'). */
  private fieldKey(metric: string): string {
    let k = this.fieldKeys.get(metric);
    if (k === undefined) {
      if (this.fieldKeys.size >= 10_000) this.fieldKeys.clear();
      k = escapeKey(metric);
      this.fieldKeys.set(metric, k);
    }
    return k;
  }

  event(e: GatewayEvent): string {
    return eventLine(this.key(e.site, e.device, e.class), e);
  }
}
