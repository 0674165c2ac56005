import type { DeviceState } from '../core/driver.js';
import type { DeviceConfig } from '../../gateway/model/site-config.js';
import type { Reading } from '../../gateway/model/types.js';
import { decodeDevice, RegisterImage } from './decode.js';
import { PRIORITY, type Link } from './link.js';
import { describeRead, isUnsupported, newMemory, plan, spanKey, spansOf, splitRead, type PlanLimits, type PlannedRead, type Span } from './planner.js';
import type { ModbusProfile } from './profile-schema.js';
import { modelPoints, plainPoints, sunspecPoints, type DevicePoints, type Point } from './points.js';
import type { SunSpecMap } from './sunspec.js';
import { ModbusError } from './transport.js';
import { backoffDelay } from '../core/schedule.js';

/** How many times a busy device (exception 6) is asked again within one poll, and the pause between. */
const BUSY_TRIES = 3;
const BUSY_PAUSE_MS = 100;

export interface DeviceEnv {
  link: Link;
  now: () => number;
  random: () => number;
  /** Shared per unit id: one SunSpec unit can be three devices; the chain is walked once. */
  discover: (unit: number) => Promise<SunSpecMap | undefined>;
  count: (kind: string, device: string) => void;
  quarantine: { min: number; max: number };
  retries: number;
}

/** Failed so that the device (not the link) is to blame: counts towards quarantine. */
class DeviceFailure extends Error {
  constructor(readonly kind: string) {
    super(kind);
  }
}

/**
 * One polled device: its points, its request plan (and what exception 2 taught it), its register
 * image and its state. A device that stops answering is quarantined with exponential backoff and
 * jitter, probed once per quarantine period (no retries, so a dead device costs its neighbours
 * one timeout), and back online at its first answer.
 */
export class ModbusDevice {
  state: DeviceState = 'unknown';
  error: string | undefined;
  lastSeen: number | undefined;
  failures = 0;
  quarantineUntil = 0;
  readonly unit: number;
  readonly cls: string;
  private points: DevicePoints | undefined;
  private spans: Span[] = [];
  private reads: PlannedRead[] = [];
  /** Nameplate points (`once`): read at the first poll after discovery and after each reconnect. */
  private onceSpans: Span[] = [];
  private onceReads: PlannedRead[] = [];
  private onceDue = true;
  private readonly memory = newMemory();
  private readonly image = new RegisterImage();
  private readonly reported = new Set<string>();
  private polls = 0;
  sunspec: SunSpecMap | undefined;

  constructor(
    readonly config: DeviceConfig,
    readonly profile: ModbusProfile,
    readonly limits: PlanLimits,
    private readonly env: DeviceEnv,
  ) {
    this.unit = config.unit ?? 1;
    this.cls = config.class;
    if (!profile.sunspec) this.setPoints(plainPoints(profile, this.cls));
  }

  get id(): string {
    return this.config.id;
  }

  get period(): number {
    return this.config.poll ?? this.profile.defaults.poll;
  }

  get planned(): readonly PlannedRead[] {
    return this.reads;
  }

  get resolvedPoints(): readonly Point[] {
    return this.points?.points ?? [];
  }

  private setPoints(p: DevicePoints): void {
    this.points = p;
    this.spans = spansOf(p.points.filter((x) => !x.once));
    this.onceSpans = spansOf(p.points.filter((x) => x.once));
    this.replan();
  }

  private replan(): void {
    this.reads = plan(this.spans, this.limits, this.memory);
    this.onceReads = plan(this.onceSpans, this.limits, this.memory);
  }

  /** One poll. Returns the readings, or throws nothing: failures become device state. */
  async poll(): Promise<Reading[]> {
    const probing = this.state === 'quarantined';
    try {
      const out = await this.cycle(probing);
      this.onAnswer();
      return out;
    } catch (err) {
      if (err instanceof DeviceFailure) this.onFailure(err.kind);
      else if (err instanceof ModbusError) {
        // The link went away: not the device's fault, no quarantine.
        this.state = 'offline';
        this.error = err.message;
      } else {
        this.error = (err as Error).message;
        this.env.count('internal', this.id);
      }
      return [];
    }
  }

  private async cycle(probing: boolean): Promise<Reading[]> {
    const started = this.env.now();
    if (!this.points) {
      const map = await this.guard(() => this.env.discover(this.unit));
      if (!map) throw new DeviceFailure('sunspec_not_found');
      this.sunspec = map;
      const extra = plainPoints(this.profile, this.cls);
      const found = sunspecPoints(this.profile, map.models, this.cls);
      this.setPoints({ points: [...found.points, ...extra.points], derived: found.derived });
    }
    const slowDue = this.polls % this.profile.defaults.slow_every === 0;
    this.polls++;
    const queue = [...(this.onceDue ? this.onceReads : []), ...this.reads.filter((r) => slowDue || !r.slow)];
    this.onceDue = false;
    const unsupported: Point[] = [];
    let first = true;
    while (queue.length) {
      const r = queue.shift();
      if (!r) break;
      try {
        const words = await this.guard(() => this.read(r, probing && first));
        this.image.set(r.fn, r.address, words, this.env.now());
        first = false;
      } catch (err) {
        if (!(err instanceof ModbusError) || err.exception === undefined || ![1, 2, 3].includes(err.exception)) throw err;
        // Exception 2: a hole inside the block. Split it, remember, and read the halves now.
        // Exceptions 1/3 (function/value refused): that span cannot be read this way at all.
        this.env.count(`exception_${err.exception}`, this.id);
        const spans = this.onceReads.includes(r) ? this.onceSpans : this.spans;
        const replacement = err.exception === 2 ? splitRead(r, spans, this.limits, this.memory) : [];
        if (err.exception !== 2) for (const s of spans) if (s.fn === r.fn && s.address >= r.address && s.address < r.address + r.count) this.memory.unsupported.add(spanKey(s));
        queue.unshift(...replacement);
        this.replan();
        for (const p of this.points?.points ?? []) {
          if (!this.reported.has(p.metric) && isUnsupported(p, this.memory, p.once ? this.onceSpans : this.spans)) {
            this.reported.add(p.metric);
            unsupported.push(p);
          }
        }
      }
    }
    const readings = decodeDevice(this.points?.points ?? [], this.points?.derived ?? [], this.image, {
      device: this.id,
      invert: this.config.options['invert'] === true,
      options: this.config.options,
      since: started,
    });
    const ts = this.env.now();
    for (const p of unsupported) readings.push({ device: this.id, metric: p.metric, value: null, ts, quality: 'bad', reason: 'not_supported' });
    return readings;
  }

  /** One read with the link's retries (not while probing a quarantined device) and busy pauses. */
  private async read(r: PlannedRead, probe: boolean): Promise<number[]> {
    const prio = r.slow ? PRIORITY.slow : PRIORITY.fast;
    let retries = probe ? 0 : this.env.retries;
    let busy = 0;
    for (;;) {
      try {
        return await this.env.link.submit(prio, (t) => t.read(this.unit, r.fn, r.address, r.count));
      } catch (err) {
        if (!(err instanceof ModbusError)) throw err;
        if (err.exception === 6 && busy < BUSY_TRIES) {
          busy++;
          this.env.count('exception_6', this.id);
          await new Promise((res) => setTimeout(res, BUSY_PAUSE_MS * busy));
          continue;
        }
        const retryable = err.kind === 'timeout' || err.kind === 'bad_frame' || err.exception === 11;
        if (retryable && retries > 0) {
          retries--;
          this.env.count('retry', this.id);
          continue;
        }
        throw err;
      }
    }
  }

  /** Device-side failures (no answer, bad frames, exceptions 4/6/10/11) become DeviceFailure. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof ModbusError)) throw err;
      if (err.kind === 'timeout' || err.kind === 'bad_frame') throw new DeviceFailure(err.kind);
      if (err.exception !== undefined && ![1, 2, 3].includes(err.exception)) throw new DeviceFailure(`exception_${err.exception}`);
      throw err;
    }
  }

  /** The link went down: offline (unless quarantined), and the nameplate is read again on the next connection. */
  connectionLost(): void {
    if (this.state !== 'quarantined') this.state = 'offline';
    this.onceDue = true;
  }

  private onAnswer(): void {
    this.state = 'online';
    this.failures = 0;
    this.error = undefined;
    this.lastSeen = this.env.now();
  }

  private onFailure(kind: string): void {
    this.failures++;
    this.onceDue = true;
    this.env.count(kind, this.id);
    const { min, max } = this.env.quarantine;
    // Jitter spreads the probes of devices that died together; never beyond the cap.
    const delay = backoffDelay(this.failures - 1, min, max, this.env.random, 0.2);
    this.state = 'quarantined';
    this.error = kind;
    this.quarantineUntil = performance.now() + delay;
  }

  /** Text lines for `fcgw explain`. */
  explain(): string[] {
    const head = `${this.id}: unit ${this.unit}, class ${this.cls}, profile ${this.profile.id}, poll ${this.period} ms`;
    const lines = [head];
    if (this.profile.sunspec && !this.sunspec) {
      const defs = this.profile.sunspec.models.filter((m) => m.class === this.cls);
      lines.push(`  SunSpec discovery at ${this.profile.sunspec.bases.join(', ')} (marker SunS); reads models ${defs.flatMap((m) => m.ids).join(', ')} once found`);
      // Addresses are known only after discovery; the plan within each model is known now.
      for (const m of defs) {
        const id = m.ids[0] ?? 0;
        const length = m.repeat ? m.repeat.start + m.repeat.size - 2 : 0xfff0;
        const pts = modelPoints(m, { id, address: 0, length });
        lines.push(`  model ${m.ids.join('/')}${m.repeat ? ', first block' : ''}, offsets from its ID register:`);
        for (const r of plan(spansOf(pts), this.limits)) lines.push(`    ${describeRead(r, pts)}`);
      }
      return lines;
    }
    if (this.sunspec) lines.push(`  SunSpec at ${this.sunspec.base}: ${this.sunspec.models.map((m) => `${m.id}@${m.address} L=${m.length}`).join(', ')}`);
    for (const r of this.reads) lines.push(`  ${describeRead(r, this.resolvedPoints)}`);
    for (const r of this.onceReads) lines.push(`  ${describeRead(r, this.resolvedPoints)} (once per connection)`);
    if (this.memory.unsupported.size) lines.push(`  unsupported: ${[...this.memory.unsupported].join(', ')}`);
    return lines;
  }
}
