import mqtt, { type MqttClient } from 'mqtt';
import type { SimulatorContext, SimulatorGroup } from '../core.js';

/**
 * The barrier gates' and parcel lockers' command inputs (the commands their profiles declare):
 * an `open` on parking/gate/<gate>/command lifts the arm, reports `barrier open` on the gate's
 * event topic, lets the waiting visitor's car in (a vehicle_entry of a non-resident) and closes
 * the arm again 10 simulated seconds later; an `unlock` on logistics/locker/<bank>/command opens
 * the compartment and reports it. A gate or bank that is `jam`med takes the command and does
 * nothing (a broken actuator), so the gateway's read-back sees no answer.
 */

const CLOSE_AFTER_MS = 10_000;
const COMPARTMENT = /^[A-Z]-[0-9]{1,3}$/;

export class CommandResponder implements SimulatorGroup {
  readonly name = 'transport-commands';
  private client: MqttClient | undefined;
  private readonly jammed = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private visitors = 0;
  readonly truth = { opened: {} as Record<string, number>, unlocked: [] as { bank: string; compartment: string; ts: number }[], ignored: 0, refused: 0 };

  /** `gates`: the gates' names; `banks`: the locker banks' numbers (as their topics say them). Others do not exist: nothing answers. */
  constructor(
    private readonly ctx: SimulatorContext,
    private readonly gates: readonly string[],
    private readonly banks: readonly string[],
  ) {}

  /** A broken actuator: `gate:<name>` or `locker:<bank>` takes commands and does nothing. */
  jam(target: string, on = true): void {
    if (on) this.jammed.add(target);
    else this.jammed.delete(target);
  }

  async start(): Promise<void> {
    if (this.client || !this.ctx.mqttUrl) return;
    const client = mqtt.connect(this.ctx.mqttUrl, { clientId: `fcgw-sim-commands-${this.ctx.seed}`, clean: true, reconnectPeriod: 1000, connectTimeout: 10_000 });
    this.client = client;
    client.on('connect', () => client.subscribe(['parking/gate/+/command', 'logistics/locker/+/command'], { qos: 1 }));
    client.on('error', (err) => this.ctx.log.debug({ err: err.message }, 'command responder MQTT error'));
    client.on('message', (topic, payload) => this.onCommand(topic, payload));
    await Promise.race([new Promise<void>((r) => client.once('connect', () => r())), new Promise((r) => setTimeout(r, 5_000).unref())]);
  }

  private onCommand(topic: string, payload: Buffer): void {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    } catch {
      this.truth.refused++;
      return;
    }
    const [, kind, id] = topic.split('/');
    if (id === undefined) return;
    const request = typeof body['request_id'] === 'string' ? body['request_id'] : undefined;
    const now = this.ctx.clock.now();
    if ((kind === 'gate' && !this.gates.includes(id)) || (kind === 'locker' && !this.banks.includes(id))) return;
    if (kind === 'gate' && body['action'] === 'open') {
      if (this.jammed.has(`gate:${id}`)) return void this.truth.ignored++;
      this.truth.opened[id] = (this.truth.opened[id] ?? 0) + 1;
      this.gate(id, { type: 'barrier', state: 'open', gate_id: id, pass_time: iso(now), ...(request ? { request_id: request } : {}) });
      const visitor = `浙A9${String(++this.visitors).padStart(4, '0')}`;
      this.later(2_000, () => this.gate(id, { type: 'vehicle_pass', direction: 'in', plate_no: visitor, gate_id: id, is_resident: false, pass_time: iso(this.ctx.clock.now()), confidence: 0.95 }));
      this.later(CLOSE_AFTER_MS, () => this.gate(id, { type: 'barrier', state: 'closed', gate_id: id, pass_time: iso(this.ctx.clock.now()) }));
    } else if (kind === 'locker' && body['action'] === 'unlock') {
      const compartment = body['compartment'];
      if (typeof compartment !== 'string' || !COMPARTMENT.test(compartment)) return void this.truth.refused++;
      if (this.jammed.has(`locker:${id}`)) return void this.truth.ignored++;
      this.truth.unlocked.push({ bank: id, compartment, ts: now });
      this.client?.publish(`logistics/locker/${id}/event`, JSON.stringify({ event: 'unlocked', compartment, ts: now, ...(request ? { request_id: request } : {}) }), { qos: 1 });
    } else this.truth.refused++;
  }

  private gate(id: string, body: Record<string, unknown>): void {
    this.client?.publish(`parking/gate/${id}/event`, JSON.stringify(body), { qos: 1 });
  }

  /** After `simMs` of simulated time. */
  private later(simMs: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, Math.max(1, simMs / this.ctx.speed));
    this.timers.add(t);
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const c = this.client;
    this.client = undefined;
    if (c) await c.endAsync();
  }

  groundTruth(): Record<string, unknown> {
    return { ...this.truth, opened: { ...this.truth.opened }, unlocked: [...this.truth.unlocked] };
  }
}

/** ISO-8601 with the +08:00 offset the gate controllers use. */
function iso(ts: number): string {
  return new Date(ts + 8 * 3_600_000).toISOString().replace('Z', '+08:00');
}
