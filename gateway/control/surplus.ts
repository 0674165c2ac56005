import type { Logger } from 'pino';
import type { Clock } from '../model/clock.js';
import type { Store } from '../store/store.js';
import type { SurplusConfig } from './schema.js';
import type { CommandInput, CommandOutcome } from './service.js';

/**
 * Surplus control, off by default: a small rule engine for the energy manager. When the grid
 * meter shows export above `export_w` for `for`, heat pumps are set to SG Ready "recommend" (they
 * store the surplus as heat) and batteries charge; on import above `import_w`, everything goes
 * back (SG Ready normal, batteries to their own logic). Comfort (a tank's temperature) and state
 * of charge bound every step; each command goes through the control service, so dwell, rate,
 * interlocks, read-back and audit apply as to any caller. Every decision is logged with its
 * reason and kept (`decisions()`).
 */

export interface Decision {
  ts: number;
  device: string;
  command: string;
  value: unknown;
  reason: string;
  /** What the rule saw: grid power (W, + import), the tank's temperature, the state of charge. */
  inputs: Record<string, number | undefined>;
  status?: string;
  code?: string;
}

export interface SurplusDeps {
  config: () => SurplusConfig;
  control: { execute(i: CommandInput): Promise<CommandOutcome> };
  store: Pick<Store, 'reads'>;
  clock: Clock;
  log: Logger;
}

const KEPT = 500;

export class SurplusControl {
  private timer: NodeJS.Timeout | undefined;
  private exportSince: number | undefined;
  private importSince: number | undefined;
  private absorbing = false;
  private running = false;
  private readonly log: Decision[] = [];
  private lastEval: number | undefined;

  constructor(private readonly d: SurplusDeps) {}

  start(): void {
    const c = this.d.config();
    if (!c.enabled || this.timer) return;
    // A short wall-clock tick; an evaluation runs when `every` of the gateway's clock has passed
    // (so an accelerated clock, whatever it says of its rate, gets its evaluations).
    const wall = Math.max(20, Math.min(250, c.every / (this.d.clock.rate ?? 1)));
    this.timer = setInterval(() => {
      const now = this.d.clock.now();
      if (this.lastEval !== undefined && now - this.lastEval < c.every) return;
      this.lastEval = now;
      void this.tick();
    }, wall);
    this.d.log.info({ grid_meter: c.grid_meter, export_w: c.export_w, import_w: c.import_w, for_ms: c.for }, 'surplus control on');
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  decisions(): readonly Decision[] {
    return this.log;
  }

  private latest(device: string, metric: string, maxAge: number): number | undefined {
    const row = this.d.store.reads.latest({ device }).find((r) => r.metric === metric);
    if (!row || typeof row.value !== 'number' || row.quality === 'bad' || this.d.clock.now() - row.ts > maxAge) return undefined;
    return row.value;
  }

  /** One evaluation; public so tests can step it. */
  async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.evaluate();
    } catch (err) {
      this.d.log.error({ err }, 'surplus control evaluation failed');
    } finally {
      this.running = false;
    }
  }

  private async evaluate(): Promise<void> {
    const c = this.d.config();
    const now = this.d.clock.now();
    const fresh = c.max_age;
    const grid = c.grid_meter ? this.latest(c.grid_meter, 'power', fresh) : undefined;
    if (grid === undefined) {
      if (this.absorbing) await this.release(`no current power from the grid meter ${c.grid_meter ?? '(none configured)'}: back to normal`);
      return;
    }
    const exportW = -grid;
    if (exportW > c.export_w) this.exportSince ??= now;
    else this.exportSince = undefined;
    if (grid > c.import_w) this.importSince ??= now;
    else this.importSince = undefined;

    if (this.absorbing && this.importSince !== undefined) {
      await this.release(`import ${kw(grid)} above ${kw(c.import_w)}: stop absorbing`);
      return;
    }
    const surplusLong = this.exportSince !== undefined && now - this.exportSince >= c.for;
    if (!this.absorbing && !surplusLong) return;
    if (!this.absorbing) this.absorbing = true;
    const why = `export ${kw(exportW)}${this.exportSince !== undefined ? ` for ${Math.round((now - this.exportSince) / 60_000)} min` : ''} (threshold ${kw(c.export_w)} for ${Math.round(c.for / 60_000)} min)`;

    for (const hp of c.heat_pumps) {
      const tank = hp.tank ? this.latest(hp.tank, hp.tank_metric, fresh) : undefined;
      const inputs = { grid, tank };
      if (hp.tank && tank === undefined) await this.act(hp.device, 'sg_ready', 'normal', `no current ${hp.tank}.${hp.tank_metric}: comfort cannot be checked`, inputs);
      else if (tank !== undefined && tank >= hp.max_c) await this.act(hp.device, 'sg_ready', 'normal', `${hp.tank}.${hp.tank_metric} ${tank} °C reached its bound ${hp.max_c} °C`, inputs);
      else await this.act(hp.device, 'sg_ready', 'recommend', why, inputs);
    }
    for (const b of c.batteries) {
      const soc = this.latest(b.device, 'soc', fresh);
      const power = this.latest(b.device, 'power', fresh) ?? 0;
      const inputs = { grid, soc };
      if (soc === undefined) await this.act(b.device, 'remote_control', false, `no current state of charge of ${b.device}`, inputs);
      else if (soc >= b.soc_max) await this.act(b.device, 'remote_control', false, `state of charge ${soc} % reached ${b.soc_max} %`, inputs);
      else if (soc < b.soc_min) await this.act(b.device, 'remote_control', false, `state of charge ${soc} % below ${b.soc_min} %: left to its own logic`, inputs);
      else {
        // What the battery takes now plus what still goes out, within the configured charge power.
        const want = Math.round(Math.max(0, Math.min(b.charge_w, power + exportW)));
        await this.act(b.device, 'power_setpoint', want, `${why}: charge ${kw(want)}`, inputs);
        await this.act(b.device, 'remote_control', true, why, inputs);
      }
    }
  }

  private async release(reason: string): Promise<void> {
    const c = this.d.config();
    this.absorbing = false;
    this.exportSince = undefined;
    for (const hp of c.heat_pumps) await this.act(hp.device, 'sg_ready', 'normal', reason);
    for (const b of c.batteries) await this.act(b.device, 'remote_control', false, reason);
  }

  /** One decision: logged with its reason, carried out through the control service. */
  private async act(device: string, command: string, value: unknown, reason: string, inputs: Record<string, number | undefined> = {}): Promise<void> {
    const last = [...this.log].reverse().find((x) => x.device === device && x.command === command);
    // The same state asked again is no decision: the engine only logs and sends changes.
    if (last && last.status === 'succeeded' && JSON.stringify(last.value) === JSON.stringify(value)) return;
    const decision: Decision = { ts: this.d.clock.now(), device, command, value, reason, inputs };
    const o = await this.d.control.execute({ device, command, value, caller: 'surplus-control', origin: 'surplus', why: reason });
    decision.status = o.status;
    if (o.code) decision.code = o.code;
    this.log.push(decision);
    if (this.log.length > KEPT) this.log.shift();
    this.d.log.info({ device, command, value, reason, status: o.status, code: o.code, detail: o.reason }, 'surplus control decision');
  }
}

const kw = (w: number) => `${(w / 1000).toFixed(1)} kW`;
