import type { Reading } from '../../gateway/model/types.js';
import type { Awaited, BusLink } from '../core/bus-link.js';
import { withRetries, type MeterDevice } from '../core/meter-bus-driver.js';
import { heatBody, waterBody, type Body } from './bodies.js';
import { findCommand, type CommandRequest, type CommandResult } from '../core/commands.js';
import { valveReply, valveRequest, type Cjt188Write } from './control.js';
import { METER_TYPE, readReply, readRequest, scan, type ReplyResult } from './frame.js';
import { bodyKind, type Cjt188Profile } from './profile-schema.js';

export interface Cjt188DeviceConfig {
  id: string;
  /** 14 digits as on the meter's label. */
  address: string;
  class?: string;
  poll?: number | undefined;
}

/** One CJ/T 188 meter: one metering-data read a poll, its fields mapped by the profile. */
export class Cjt188Device implements MeterDevice {
  private seq = 0;
  private readonly type: number;

  constructor(
    private readonly config: Cjt188DeviceConfig,
    private readonly profile: Cjt188Profile,
  ) {
    this.type = METER_TYPE[profile.meter_type];
  }

  get id(): string {
    return this.config.id;
  }

  get period(): number {
    return this.config.poll ?? this.profile.defaults.poll;
  }

  async poll(link: BusLink, opts: { retries: number; timeoutMs: number; now: () => number }): Promise<Reading[]> {
    const seq = this.seq++ & 0xff;
    const request = readRequest({ type: this.type, address: this.config.address, seq, order: this.profile.di_order });
    const reply = await withRetries(opts.retries, () => link.exchange(request, this.awaited(seq), opts.timeoutMs));
    const ts = opts.now();
    if (reply.kind === 'error_reply') return this.profile.points.map((p) => ({ device: this.id, metric: p.metric, value: null, ts, quality: 'bad', reason: `meter_error_${reply.status.toString(16)}` }));
    if (reply.kind !== 'data') return [];
    const kind = bodyKind(this.profile.meter_type);
    const body = kind === 'heat' ? heatBody(reply.body) : waterBody(reply.body);
    if ('error' in body) return this.profile.points.map((p) => ({ device: this.id, metric: p.metric, value: null, ts, quality: 'bad', reason: 'decode_error' }));
    return this.profile.points.map((p) => this.reading(p, body as Body, ts));
  }

  /** Open or close the valve (C = 0x04, DI A017), then read the metering data: its ST shows the valve. */
  async command(link: BusLink, req: CommandRequest, opts: { timeoutMs: number }): Promise<CommandResult> {
    const def = findCommand(this.profile, this.config.class ?? '', req.command);
    if (!def) throw Object.assign(new Error(`no command ${req.command} for this meter`), { code: 'CJT188_COMMAND_UNKNOWN' });
    const w = def.write as Cjt188Write;
    const action = w.map[String(req.value)];
    if (!action) throw Object.assign(new Error(`no valve action for ${String(req.value)}`), { code: 'CJT188_COMMAND_VALUE' });
    const request = valveRequest({ type: this.type, address: this.config.address, action, seq: this.seq++ & 0xff, order: this.profile.di_order });
    const reply = await link.exchange(request, { scan, match: (f) => { const r = valveReply(f, this.config.address); return r.kind === 'mismatch' ? { ok: false, why: r.why } : { ok: true, value: r }; } }, opts.timeoutMs);
    if (reply.kind === 'refused') throw Object.assign(new Error(`meter ${this.config.address} refused to ${action} its valve (status 0x${reply.status.toString(16)})`), { code: 'CJT188_REFUSED' });
    const seq = this.seq++ & 0xff;
    const read = await link.exchange(readRequest({ type: this.type, address: this.config.address, seq, order: this.profile.di_order }), this.awaited(seq), opts.timeoutMs);
    if (read.kind !== 'data') return { readBack: null };
    const body = bodyKind(this.profile.meter_type) === 'heat' ? heatBody(read.body) : waterBody(read.body);
    if ('error' in body) return { readBack: null };
    const [closed, fault] = [body['valve_closed'], body['valve_fault']];
    // A valve in fault is in no state the command asked for.
    if (!closed || !('value' in closed) || (fault && 'value' in fault && fault.value === true)) return { readBack: null };
    return { readBack: Object.keys(w.map).find((k) => (w.map[k] === 'close') === closed.value) ?? null };
  }

  private reading(p: Cjt188Profile['points'][number], body: Body, ts: number): Reading {
    const f = body[p.field];
    if (!f || 'error' in f) return { device: this.id, metric: p.metric, value: null, ts, quality: 'bad', reason: f && 'error' in f && f.error === 'unknown_unit' ? 'unit_mismatch' : 'decode_error' };
    const unit = 'unit' in f ? f.unit : undefined;
    const value = typeof f.value === 'number' ? f.value * p.scale : f.value;
    return { device: this.id, metric: p.metric, value, ts, ...(unit !== undefined ? { unit } : {}) };
  }

  private awaited(seq: number): Awaited<ReplyResult> {
    return {
      scan,
      match: (frame) => {
        const r = readReply(frame, { address: this.config.address, seq });
        return r.kind === 'mismatch' ? { ok: false, why: r.why } : { ok: true, value: r };
      },
    };
  }

  explain(): string[] {
    const lines = [`${this.id}: meter ${this.config.address}, CJ/T 188 type 0x${this.type.toString(16)} (${this.profile.meter_type}), identifier 901F sent ${this.profile.di_order === 'msb_first' ? '90 1F' : '1F 90'}, profile ${this.profile.id}, poll ${this.period} ms`];
    for (const p of this.profile.points) lines.push(`  ${p.field} → ${p.metric}${p.scale !== 1 ? ` × ${p.scale}` : ''}`);
    return lines;
  }
}
