import type { Reading } from '../../gateway/model/types.js';
import { decodeBcd, type BcdFormat } from '../core/bcd.js';
import { BusError, type Awaited, type BusLink } from '../core/bus-link.js';
import { withRetries, type MeterDevice } from '../core/meter-bus-driver.js';
import { readReply, readRequest, scan, type Edition, type ReplyResult } from './frame.js';
import { IDENTIFIERS_1997, IDENTIFIERS_2007, type DiFormat } from './identifiers.js';
import type { CommandRequest, CommandResult } from '../core/commands.js';
import { relayCommand } from './commands.js';
import type { Dlt645Profile } from './profile-schema.js';

export interface Dlt645DeviceConfig {
  id: string;
  /** 12 digits as on the meter's label. */
  address: string;
  class?: string;
  poll?: number | undefined;
  options: Readonly<Record<string, string | number | boolean>>;
}

interface ResolvedPoint {
  metric: string;
  di: string;
  format: DiFormat;
  scale: number;
  every: number;
  onInvert?: string | undefined;
}

/** The format of a point: the profile's own, else the standard's table. Undefined: unknown identifier. */
export function pointFormat(p: Dlt645Profile['points'][number], edition: Edition): DiFormat | undefined {
  if (p.format) return { ...p.format, what: `${p.di} (profile format)` };
  const table = edition === '2007' ? IDENTIFIERS_2007 : IDENTIFIERS_1997;
  return table[p.di.toUpperCase()];
}

/** One DL/T 645 meter: reads its profile's identifiers one exchange each. */
export class Dlt645Device implements MeterDevice {
  private readonly points: ResolvedPoint[];
  /** Identifiers the meter said it does not have (error reply): reported once, not asked again. */
  private readonly unsupported = new Set<string>();
  private polls = 0;
  private readonly lastRead = new Map<string, number>();

  constructor(
    private readonly config: Dlt645DeviceConfig,
    private readonly profile: Dlt645Profile,
  ) {
    this.points = profile.points.map((p) => {
      const format = pointFormat(p, profile.edition);
      if (!format) throw new Error(`profile ${profile.id}: identifier ${p.di} has no known format; give it one`);
      return { metric: p.metric, di: p.di.toUpperCase(), format, scale: p.scale, every: p.every, onInvert: p.on_invert };
    });
  }

  get id(): string {
    return this.config.id;
  }

  get period(): number {
    return this.config.poll ?? this.profile.defaults.poll;
  }

  async poll(link: BusLink, opts: { retries: number; timeoutMs: number; now: () => number }): Promise<Reading[]> {
    const out: Reading[] = [];
    const n = this.polls++;
    for (const p of this.points) {
      // Due when never read or `every` polls since it was last read (a failed poll does not shift it).
      const last = this.lastRead.get(p.di);
      if (this.unsupported.has(p.di) || (last !== undefined && n - last < p.every)) continue;
      let reply: ReplyResult;
      try {
        reply = await withRetries(opts.retries, () => link.exchange(readRequest(this.config.address, p.di, this.profile.edition), this.awaited(p.di), opts.timeoutMs));
      } catch (err) {
        // It answered earlier in this poll: alive but flaky; keep what it said, try the rest next time.
        if (out.length > 0 && err instanceof BusError && err.code === 'BUS_TIMEOUT') return out;
        throw err;
      }
      this.lastRead.set(p.di, n);
      const ts = opts.now();
      if (reply.kind === 'error_reply') {
        this.unsupported.add(p.di);
        out.push({ device: this.id, metric: p.metric, value: null, ts, quality: 'bad', reason: 'not_supported' });
        continue;
      }
      if (reply.kind !== 'value') continue;
      out.push(this.reading(p, reply.value, ts));
    }
    return out;
  }

  /** Remote control of the meter's relay (C = 0x1C), read back from status word 3. */
  command(link: BusLink, req: CommandRequest, opts: { timeoutMs: number }): Promise<CommandResult> {
    return relayCommand(link, { profile: this.profile, cls: this.config.class ?? '', address: this.config.address, options: this.config.options, command: req.command, value: req.value, timeoutMs: opts.timeoutMs });
  }

  private reading(p: ResolvedPoint, bytes: Buffer, ts: number): Reading {
    const raw = bytes.length >= p.format.bytes ? decodeBcd(bytes.subarray(0, p.format.bytes), p.format as BcdFormat) : undefined;
    let metric = p.metric;
    if (raw === undefined) return { device: this.id, metric, value: null, ts, quality: 'bad', reason: 'decode_error' };
    let value = raw * p.scale;
    if (this.config.options['invert'] === true && p.onInvert) {
      if (p.onInvert === 'negate') value = value === 0 ? 0 : -value;
      else metric = p.onInvert;
    }
    return { device: this.id, metric, value, unit: p.format.unit, ts };
  }

  private awaited(di: string): Awaited<ReplyResult> {
    return {
      scan,
      match: (frame) => {
        const r = readReply(frame, { address: this.config.address, di, edition: this.profile.edition });
        return r.kind === 'mismatch' ? { ok: false, why: r.why } : { ok: true, value: r };
      },
    };
  }

  explain(): string[] {
    const lines = [`${this.id}: meter ${this.config.address}, DL/T 645-${this.profile.edition}, profile ${this.profile.id}, poll ${this.period} ms`];
    for (const p of this.points) {
      const f = p.format;
      lines.push(`  ${p.di} → ${p.metric}: ${f.bytes} bytes BCD, ${f.decimals} decimals${f.signed ? ', signed' : ''}, ${f.unit}${p.every > 1 ? `, every ${p.every} polls` : ''} (${f.what})`);
    }
    return lines;
  }
}
