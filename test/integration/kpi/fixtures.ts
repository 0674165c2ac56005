import { join } from 'node:path';
import pino from 'pino';
import { configSchema, type GatewayConfig } from '../../../gateway/config/schema.js';
import { CounterState } from '../../../gateway/pipeline/counters.js';
import { Dedupe, normalise } from '../../../gateway/pipeline/normalise.js';
import { Pseudonymiser } from '../../../gateway/pipeline/pseudonymise.js';
import type { EventReading, Reading } from '../../../gateway/model/types.js';
import { Store } from '../../../gateway/store/store.js';
import { tempDir } from '../../helpers/peers.js';
import { mulberry32 } from '../../../simulators/transport/rng.js';

/** A real store on a temp file, fed through the real pipeline (so counters get its flags). */

export const SITE = 'lianhua';
export const MIN = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;
/** 2024-03-01 00:00 in Asia/Shanghai. */
export const MARCH_1 = Date.parse('2024-03-01T00:00:00+08:00');

export interface DeviceSpec {
  id: string;
  class: string;
  tags?: Record<string, string>;
}

export class Fixture {
  readonly store: Store;
  readonly path: string;
  private readonly classes = new Map<string, string>();
  private readonly counters = new CounterState();
  private readonly dedupe = new Dedupe();
  private readonly pseudo = new Pseudonymiser(Buffer.from('kpi-test-secret-0123456789abcdef'));
  private readonly cleanup: () => void;
  rejected = 0;

  /** Counter wraps the pipeline is told about (as the app does from profiles). */
  readonly wraps = new Map<string, number>();

  constructor(devices: readonly DeviceSpec[] = []) {
    const t = tempDir('fcgw-kpi-');
    this.cleanup = t.cleanup;
    this.path = join(t.dir, 'gateway.db');
    this.store = Store.open({ path: this.path, site: SITE });
    this.devices(devices);
  }

  devices(devices: readonly DeviceSpec[]): void {
    for (const d of devices) {
      this.classes.set(d.id, d.class);
      this.store.upsertDevice({ id: d.id, class: d.class, connection: 'test', profile: 'test', tags: d.tags ?? {}, discovered: false });
    }
  }

  /** Readings and events through normalise (units, counter flags, pseudonyms) into the store. */
  write(readings: readonly Reading[], events: readonly EventReading[] = []): void {
    const deps = {
      site: SITE,
      deviceClass: (id: string) => this.classes.get(id),
      counters: this.counters,
      dedupe: this.dedupe,
      pseudo: this.pseudo,
      now: () => Number.MAX_SAFE_INTEGER / 2,
      rolloverAt: (device: string, metric: string) => this.wraps.get(`${device}/${metric}`),
    };
    for (let i = 0; i === 0 || i < readings.length; i += 20_000) {
      const res = normalise({ readings: readings.slice(i, i + 20_000), events: i === 0 ? events : [] }, deps);
      this.rejected += res.rejections.length;
      this.store.write(res.samples, res.events);
    }
  }

  pseudonym(raw: string): string {
    return this.pseudo.pseudonym(raw);
  }

  close(): void {
    if (this.store.isOpen) this.store.close();
    this.cleanup();
  }
}

export function testConfig(extra: Record<string, unknown> = {}): Readonly<GatewayConfig> {
  return configSchema.parse({ version: 1, site: { id: SITE, residents: 200 }, ...extra });
}

export const silentLog = pino({ level: 'silent' });

/** Seeded PRNG (the simulators' mulberry32): the same data on every run. */
export const rng = mulberry32;

/** ∫ f dt over [a, b) in f-unit·hours, by the trapezoid rule at `stepMs` (ground truth at 1 s). */
export function integrate(f: (t: number) => number, a: number, b: number, stepMs = 1000): number {
  let sum = 0;
  let prev = f(a);
  let t = a;
  while (t < b) {
    const next = Math.min(t + stepMs, b);
    const v = f(next);
    sum += ((prev + v) / 2) * (next - t);
    prev = v;
    t = next;
  }
  return sum / HOUR;
}

/**
 * Readings of a counter that integrates `power` exactly (to `resolution`), sampled every
 * `everyMs` with ±jitter; `skip(t)` drops samples (offline). Returns readings and the exact
 * counter function for ground truth.
 */
export function counterReadings(
  device: string,
  metric: string,
  power: (t: number) => number,
  from: number,
  to: number,
  o: { everyMs?: number; jitterMs?: number; seed?: number; start?: number; resolution?: number; skip?: (t: number) => boolean } = {},
): Reading[] {
  const every = o.everyMs ?? MIN;
  const rand = rng(o.seed ?? 1);
  const res = o.resolution ?? 1;
  const out: Reading[] = [];
  let acc = o.start ?? 0;
  let last = from;
  for (let t = from; t < to; t += every) {
    const ts = Math.round(t + (o.jitterMs ?? 0) * (rand() * 2 - 1));
    if (ts > last) acc += integrate(power, last, ts, 5000);
    last = Math.max(last, ts);
    if (o.skip?.(ts)) continue;
    out.push({ device, metric, value: Math.floor(acc / res) * res, ts });
  }
  return out;
}

/** Readings of a gauge sampled like counterReadings. */
export function gaugeReadings(device: string, metric: string, f: (t: number) => number, from: number, to: number, everyMs = MIN, skip?: (t: number) => boolean): Reading[] {
  const out: Reading[] = [];
  for (let t = from; t < to; t += everyMs) if (!skip?.(t)) out.push({ device, metric, value: f(t), ts: t });
  return out;
}

/** Hours since local midnight in Shanghai (UTC+8, no DST). */
export const localHour = (t: number) => (((t + 8 * HOUR) % DAY) + DAY) % DAY / HOUR;

/** A sunny-day PV curve, peak `kw` kW at 12:00 local. */
export const solar = (kw: number) => (t: number) => {
  const h = localHour(t);
  return h > 6 && h < 18 ? kw * 1000 * Math.sin((Math.PI * (h - 6)) / 12) : 0;
};
