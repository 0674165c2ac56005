import type { SimulatorContext, SimulatorGroup } from '../core.js';
import { MqttPublisher } from '../servers/mqtt-publisher.js';
import { FaultInjector, type FaultRates } from './faults.js';
import type { Outgoing, Source } from './outgoing.js';
import { forkRng } from './rng.js';
import { LateSource } from './late.js';

export interface GroupOptions {
  name: string;
  sources: Source[];
  faults: FaultRates;
  /** Simulated ms between forced disconnects of the publisher (0: never). */
  restartEvery: number;
  tickMs: number;
}

/**
 * A transport device family behind one MQTT publisher: every tick it advances its models to the
 * simulated clock and publishes what the devices sent, with injected faults.
 */
export class PublishingGroup implements SimulatorGroup {
  readonly name: string;
  private readonly publisher: MqttPublisher;
  private readonly faults: FaultInjector;
  private timer: NodeJS.Timeout | undefined;
  private lastRestart = 0;
  private good = 0;

  constructor(
    private readonly opts: GroupOptions,
    private readonly ctx: SimulatorContext,
  ) {
    this.name = opts.name;
    if (!ctx.mqttUrl) throw new Error(`simulator ${opts.name}: no MQTT broker (SimulatorContext.mqttUrl)`);
    this.publisher = new MqttPublisher({ url: ctx.mqttUrl, clientId: `fcgw-sim-${opts.name}-${ctx.seed}`, log: ctx.log });
    this.faults = new FaultInjector(opts.faults, forkRng(ctx.seed, `${opts.name}/faults`));
  }

  async start(): Promise<void> {
    if (this.timer) return;
    await this.publisher.start();
    this.lastRestart = this.ctx.clock.now();
    this.timer = setInterval(() => this.tick(), this.opts.tickMs);
  }

  /** Advance to the clock and publish; public so tests can step a group without waiting. */
  tick(): void {
    const now = this.ctx.clock.now();
    for (const src of this.opts.sources) {
      for (const out of src.advance(now)) this.send(out);
    }
    if (this.opts.restartEvery > 0 && now - this.lastRestart >= this.opts.restartEvery) {
      this.lastRestart = now;
      this.publisher.restart();
    }
  }

  private send(out: Outgoing): void {
    for (const w of this.faults.apply(out)) {
      this.publisher.publish(w.topic, w.payload);
      if (!w.fault) this.good++;
    }
  }

  /** Send what late sources still hold (the handhelds dock at the end of the shift). */
  release(): void {
    for (const src of this.opts.sources) {
      if (!(src instanceof LateSource)) continue;
      for (const out of src.release()) this.send(out);
    }
  }

  /** Wait until the broker acknowledged everything published so far. */
  drain(timeoutMs?: number): Promise<boolean> {
    return this.publisher.drain(timeoutMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.publisher.stop();
  }

  groundTruth(): Record<string, unknown> {
    return {
      messages: { good: this.good, ...this.publisher.stats },
      faults: { ...this.faults.counts, broker_restart: this.publisher.stats.restarts },
      ...Object.fromEntries(this.opts.sources.map((s) => [s.name, s.groundTruth()])),
    };
  }
}
