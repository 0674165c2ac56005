import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { relocatedDemo } from '../../helpers/demo.js';
import { startGatewayProcess, type RunningGateway } from '../../helpers/gateway-process.js';
import { killAndWait } from '../../helpers/peers.js';

/**
 * One community of a district for tests: the demo config (config/demo.yaml) relocated to free
 * ports, with its own site id, district and simulator seed, accelerated, and reduced to the
 * energy plant room (SunSpec PV, battery, grid meter, heat pumps over Modbus TCP; water meters
 * over RTU-over-TCP). Twenty full demos (357 MQTT devices, 40 OCPP chargers and an OPC UA
 * station each) do not fit two cores; the energy room still gives every low-carbon KPI.
 */
export interface CommunityOptions {
  dir: string;
  site: string;
  district: string;
  seed: number;
  /** Simulated start (epoch ms) and speed. */
  start: number;
  speed: number;
  sinks: Record<string, unknown>[];
  /** Extra connections (an mqtt sink's broker). */
  connections?: Record<string, unknown>[];
  northbound?: Record<string, unknown>;
}

export async function communityConfig(o: CommunityOptions): Promise<string> {
  mkdirSync(o.dir, { recursive: true });
  const keep = new Set(['energy-tcp', 'water-rs485']);
  const demo = await relocatedDemo(o.dir, (doc) => {
    doc.setIn(['site', 'id'], o.site);
    doc.setIn(['site', 'name'], `${o.site} community`);
    doc.setIn(['site', 'district'], o.district);
    doc.setIn(['simulators', 'seed'], o.seed);
    doc.setIn(['simulators', 'speed'], o.speed);
    doc.setIn(['simulators', 'start'], new Date(o.start).toISOString());
    doc.setIn(['logging', 'level'], 'warn');
    const js = doc.toJS() as { connections: { id: string }[]; devices: { connection: string }[] };
    doc.set('connections', doc.createNode([...js.connections.filter((c) => keep.has(c.id)), ...(o.connections ?? [])]));
    // Polls run on wall-clock timers: at `speed`× a 30 s poll would leave half an hour of simulated
    // time between two readings; one second keeps a reading every `speed` seconds of it.
    doc.set('devices', doc.createNode(js.devices.filter((d) => keep.has(d.connection)).map((d) => ({ ...d, poll: '1s' }))));
    doc.set('discover', doc.createNode([]));
    doc.set('sinks', doc.createNode(o.sinks));
    doc.setIn(['kpi', 'evaluate_every'], '1m');
    doc.setIn(['kpi', 'northbound'], doc.createNode({ windows: ['hour', 'day'], running_every: '2m', closed_after: '3m', ...o.northbound }));
  });
  const scenarioFile = join(o.dir, 'scenario.yaml');
  const scenario = parseDocument(readFileSync(scenarioFile, 'utf8'));
  scenario.delete('opcua');
  scenario.delete('transport');
  scenario.deleteIn(['energy', 'buses']);
  writeFileSync(scenarioFile, scenario.toString());
  return demo.configFile;
}

/**
 * Start one community; a free port taken by someone else between choosing and listening (twenty
 * processes and other tests on one machine) gets a fresh set of ports, up to three times.
 */
export async function startCommunity(o: CommunityOptions): Promise<RunningGateway> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startGatewayProcess(await communityConfig(o), { MALLOC_ARENA_MAX: '2' }, 240_000);
    } catch (err) {
      if (attempt >= 3 || !/EADDRINUSE/.test(String(err))) throw err;
    }
  }
}

export async function stopCommunity(g: RunningGateway): Promise<void> {
  if (g.proc.exitCode === null) await killAndWait(g.proc, 'SIGTERM');
}

/** The start of the local (Asia/Shanghai, whole-hour offset) hour containing `t`. */
export const hourOf = (t: number) => Math.floor(t / 3_600_000) * 3_600_000;

export interface ApiKpi {
  kpi: string;
  scope: string;
  value: number | null;
  coverage: number;
  status: string;
  closed: boolean;
}

export async function apiKpis(g: RunningGateway, window: string, at: number): Promise<ApiKpi[]> {
  const res = await fetch(`${g.apiUrl}/api/kpis?window=${window}&at=${at}`);
  if (!res.ok) throw new Error(`/api/kpis ${res.status}: ${await res.text()}`);
  return (await res.json()) as ApiKpi[];
}
