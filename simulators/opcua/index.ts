import type { Clock } from '../../gateway/model/clock.js';
import { parseSection, type SimulatorGroup, type SimulatorSectionFactory } from '../core.js';
import { stationSchema, type StationFault, type StationScenario } from './schema.js';
import { StationServer, type PointStatus } from './server.js';
import { StationModel, type StationPoint, type Totals } from './station.js';
import type { Logger } from 'pino';

export { stationSchema, type StationScenario, type StationFault } from './schema.js';
export { StationModel, MODE_CODE, type StationPoint, type Totals } from './station.js';
export { StationServer, STATION_NAMESPACE, DEFAULT_PKI } from './server.js';

/** How often the model is brought up to the simulated now and its values pushed (wall ms). */
const MAX_TICK_MS = 1000;
const MIN_TICK_MS = 20;

/**
 * The energy station over OPC UA: the model, its server, the injected faults and the exact ground
 * truth. Each tick advances the model to the simulated now and pushes the values; the state at every
 * `record_every` instant (5 min) is pushed too, stamped exactly, so a client that keeps every change
 * sees the counters at those instants (and at whole hours) whatever the speed and the timer jitter.
 */
export class StationGroup implements SimulatorGroup {
  readonly name = 'opcua-station';
  readonly model: StationModel;
  readonly server: StationServer;
  private readonly start0: number;
  private timer: NodeJS.Timeout | undefined;
  private faults: StationFault[];
  /** Values a device showed when it lost contact, by device and point. */
  private readonly frozen = new Map<string, Map<string, number>>();

  constructor(
    readonly scenario: StationScenario,
    private readonly clock: Clock,
    private readonly o: { seed: number; latitude: number; longitude: number; speed: number; pkiDir?: string; log?: Logger },
  ) {
    this.start0 = clock.now();
    this.model = new StationModel(scenario, { start: this.start0, seed: o.seed, latitude: o.latitude, longitude: o.longitude });
    this.faults = [...scenario.faults];
    this.server = new StationServer(
      {
        host: scenario.host,
        port: scenario.port,
        secureOnly: scenario.secure_only,
        anonymous: scenario.anonymous,
        users: scenario.users,
        ...(o.pkiDir ? { pkiDir: o.pkiDir } : {}),
        ...(o.log ? { log: o.log } : {}),
      },
      this.model.devices,
    );
  }

  async start(): Promise<void> {
    await this.server.start();
    this.push(this.model.t);
    this.tick();
    const every = Math.max(MIN_TICK_MS, Math.min(MAX_TICK_MS, this.scenario.step / this.o.speed));
    this.timer ??= setInterval(() => this.tick(), every);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.server.stop();
  }

  /** Take the server away and bring it back (same port, same model): a station PLC rebooting. */
  async restart(downMs = 0): Promise<void> {
    await this.server.stop();
    if (downMs) await new Promise((r) => setTimeout(r, downMs));
    await this.server.start();
    this.push(this.model.t);
  }

  /** Inject a fault now (tests, `fcgw simulate`); `at` and `duration` count from now. */
  inject(fault: Omit<StationFault, 'at' | 'bad_after'> & { at?: number; bad_after?: number }): void {
    const now = this.clock.now() - this.start0;
    this.faults.push({ bad_after: 60_000, ...fault, at: now + (fault.at ?? 0) });
    this.push(this.model.t);
  }

  clearFaults(): void {
    this.faults = [];
    this.frozen.clear();
    this.push(this.model.t);
  }

  /** Exact totals at a whole simulated hour (undefined when it is not kept). */
  totalsAt(hourTs: number): Totals | undefined {
    return this.model.marks.get(hourTs);
  }

  groundTruth(): Record<string, unknown> {
    const sg_ready = Object.fromEntries(this.model.pumps.map((p) => [p.id, { state: p.hp.sgReady, changes: p.sgChanges }]));
    return { since: this.start0, at: this.model.t, totals: this.model.totals(), hourly: Object.fromEntries(this.model.marks), sg_ready };
  }

  private tick(): void {
    // At high speed every tick passes record instants; pushing the tick's own state as well would
    // only double the traffic.
    let recorded = false;
    const moved = this.model.advance(this.clock.now(), () => {
      this.push(this.model.t);
      recorded = true;
    });
    if (moved && !recorded) this.push(this.model.t);
  }

  private push(ts: number): void {
    this.server.publish(ts, (device, p) => this.status(device, p, ts));
  }

  /** The status a point of a device shows at simulated time `ts` (what the server publishes). */
  statusAt(device: string, metric: string, ts: number): PointStatus['code'] {
    const p = this.model.devices.find((d) => d.id === device)?.points().find((x) => x.metric === metric);
    return p ? this.status(device, p, ts).code : 'Good';
  }

  private status(device: string, p: StationPoint, ts: number): PointStatus {
    const rel = ts - this.start0;
    let out: PointStatus = { code: 'Good' };
    let lost = false;
    for (const f of this.faults) {
      if (f.device !== device || rel < f.at || (f.duration !== undefined && rel >= f.at + f.duration)) continue;
      if (f.kind === 'comm_loss') {
        lost = true;
        const frozen = this.frozenOf(device, p);
        out = { code: rel - f.at >= f.bad_after ? 'BadNoCommunication' : 'UncertainLastUsableValue', frozen };
        break;
      }
      if (f.metrics && !f.metrics.includes(p.metric)) continue;
      out = { code: f.kind === 'sensor_failure' ? 'BadSensorFailure' : 'UncertainSensorNotAccurate' };
    }
    if (!lost) this.frozen.get(device)?.delete(p.name);
    return out;
  }

  private frozenOf(device: string, p: StationPoint): number {
    let m = this.frozen.get(device);
    if (!m) this.frozen.set(device, (m = new Map()));
    let v = m.get(p.name);
    if (v === undefined) m.set(p.name, (v = p.value));
    return v;
  }
}

/** The `opcua:` scenario section: one station server on loopback. */
export const opcuaSection: SimulatorSectionFactory = (section, ctx) => {
  const s = parseSection('opcua', stationSchema, section);
  return [new StationGroup(s, ctx.clock, { seed: ctx.seed, latitude: ctx.latitude, longitude: ctx.longitude, speed: ctx.speed, log: ctx.log })];
};

