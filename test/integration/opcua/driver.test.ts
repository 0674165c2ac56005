import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../gateway/cli/index.js';
import { AcceleratedClock } from '../../../gateway/model/clock.js';
import { pkiDir } from '../../../drivers/opcua/index.js';
import type { StationGroup } from '../../../simulators/opcua/index.js';
import { freePort, tempDir, waitFor } from '../../helpers/peers.js';
import { collect, driver, ManualClock, opcuaConnection, station, stationDevices, stationScenario } from './harness.js';

/**
 * The OPC UA driver against the station simulator (a real node-opcua server on loopback), one
 * server for the file: secure sessions, users, status codes → quality, restarts, polling.
 */

const tmp = tempDir('fcgw-opcua-');
/** One gateway data directory for the file: its client certificate is made once. */
const gwDir = join(tmp.dir, 'gateway');
let port: number;
let sim: StationGroup;
// 60× real time: the 5 s physics step moves every 83 ms, so values keep changing.
const clock = new AcceleratedClock(Date.now() - 3_600_000, 60);

beforeAll(async () => {
  port = await freePort();
  sim = station(stationScenario(port, { users: { operator: 'station-pass-1' } }), clock, 60);
  await sim.start();
}, 20_000);

afterAll(async () => {
  await sim.stop();
  tmp.cleanup();
});

describe('OPC UA driver', () => {
  it('opens a Basic256Sha256 SignAndEncrypt session as a user, with its own certificate kept in the data directory', async () => {
    const c = collect(gwDir);
    const conn = opcuaConnection(port, {
      security_mode: 'SignAndEncrypt',
      security_policy: 'Basic256Sha256',
      username: 'operator',
      password: 'station-pass-1',
      trusted_certificates: [sim.server.certificateFile],
    });
    const d = driver(conn, stationDevices('station'), c);
    try {
      await d.start();
      await waitFor(() => c.last('hp-1', 'thermal_total') && c.last('heat', 'thermal_total') && c.last('hp-2', 'mode'), 10_000);
      expect(d.health()).toMatchObject({ state: 'connected', counters: { monitored: 41, polled: 0 } });
      expect(d.health().devices.every((x) => x.state === 'online')).toBe(true);
      const t = c.last('hp-1', 'thermal_total');
      expect(t?.quality).toBeUndefined();
      expect(typeof t?.value).toBe('number');
      // The unit comes from the server's EngineeringUnits: kWh on the pumps, GJ on the heat meter.
      expect(t?.unit).toBe('kWh');
      expect(c.last('heat', 'thermal_total')?.unit).toBe('GJ');
      expect(['standby', 'heating', 'dhw', 'defrost']).toContain(c.last('hp-2', 'mode')?.value);
      // Source timestamps: the simulator's (accelerated) time, not the receive time.
      expect(Math.abs((t?.ts ?? 0) - clock.now())).toBeLessThan(120_000);
      expect(Math.abs((t?.ts ?? 0) - Date.now())).toBeGreaterThan(30 * 60_000);
      expect(existsSync(join(pkiDir(gwDir), 'own/certs/client_certificate.pem'))).toBe(true);
    } finally {
      await d.stop();
    }
    const h = d.health();
    expect(h.state).toBe('stopped');
  }, 20_000);

  // Signed only, and the AES policies a current PLC offers, with the same client certificate.
  it.each([
    ['Sign', 'Basic256Sha256'],
    ['SignAndEncrypt', 'Aes128_Sha256_RsaOaep'],
    ['SignAndEncrypt', 'Aes256_Sha256_RsaPss'],
  ] as const)('a %s session with %s reads the station too', async (mode, policy) => {
    const c = collect(gwDir);
    const conn = opcuaConnection(port, {
      security_mode: mode,
      security_policy: policy,
      username: 'operator',
      password: 'station-pass-1',
      trusted_certificates: [sim.server.certificateFile],
    });
    const d = driver(conn, stationDevices('station').slice(0, 1), c);
    try {
      await d.start();
      const t = await waitFor(() => c.last('hp-1', 'thermal_total'), 10_000);
      expect(typeof t.value).toBe('number');
      expect(d.health()).toMatchObject({ state: 'connected' });
      expect(d.explain('hp-1')[0]).toContain(`security ${mode}/${policy}`);
    } finally {
      await d.stop();
    }
  }, 20_000);

  it('a server that is down at start: start() returns, health says why, and the driver keeps trying', async () => {
    const c = collect(gwDir);
    const d = driver(opcuaConnection(await freePort(), { timeout: '1s' }), stationDevices('station').slice(0, 1), c);
    try {
      const t0 = Date.now();
      await d.start();
      expect(Date.now() - t0).toBeLessThan(5000);
      await waitFor(() => d.health().state === 'backoff' && /ECONNREFUSED/.test(d.health().error ?? ''), 8000);
      expect(d.health().devices[0]?.state).not.toBe('online');
    } finally {
      await d.stop();
    }
    expect(d.health().state).toBe('stopped');
  }, 15_000);

  it('never trusts a server certificate that the config does not name', async () => {
    // A data directory of its own: trust, once given, is kept in the PKI folder.
    const c = collect(join(tmp.dir, 'gw-untrusting'));
    const d = driver(opcuaConnection(port, { security_mode: 'SignAndEncrypt', security_policy: 'Basic256Sha256' }), stationDevices('station').slice(0, 1), c);
    try {
      await d.start();
      await waitFor(() => d.health().state === 'backoff' && d.health().error, 8000);
      expect(d.health().error).toMatch(/BadCertificateUntrusted/);
      expect(c.readings).toEqual([]);
      expect(d.health().devices[0]?.state).not.toBe('online');
    } finally {
      await d.stop();
    }
  }, 15_000);

  it('refuses a wrong password and keeps retrying without throwing', async () => {
    const c = collect(gwDir);
    const d = driver(opcuaConnection(port, { username: 'operator', password: 'wrong-password' }), stationDevices('station').slice(0, 1), c);
    try {
      await d.start();
      await waitFor(() => d.health().state === 'backoff' && d.health().error, 8000);
      expect(d.health().error).toMatch(/Bad/i);
      expect(c.readings).toEqual([]);
    } finally {
      await d.stop();
    }
  }, 15_000);

  it('a node going Bad gives a bad-quality sample with the status name, never a number; Uncertain keeps the value', async () => {
    const c = collect(gwDir);
    const d = driver(opcuaConnection(port), stationDevices('station'), c);
    try {
      await d.start();
      await waitFor(() => c.last('hp-1', 'supply_temp')?.quality === undefined && c.last('hp-1', 'supply_temp'), 8000);
      sim.inject({ device: 'hp-1', kind: 'sensor_failure', metrics: ['supply_temp'] });
      const bad = await waitFor(() => (c.last('hp-1', 'supply_temp')?.quality === 'bad' ? c.last('hp-1', 'supply_temp') : undefined), 5000);
      expect(bad.value).toBeNull();
      expect(bad.reason).toBe('BadSensorFailure');
      // Its neighbours stay good.
      expect(c.last('hp-1', 'return_temp')?.quality).toBeUndefined();

      sim.inject({ device: 'hp-2', kind: 'comm_loss', bad_after: 3_600_000 });
      const unc = await waitFor(() => (c.last('hp-2', 'electric_total')?.quality === 'uncertain' ? c.last('hp-2', 'electric_total') : undefined), 5000);
      expect(unc.reason).toBe('UncertainLastUsableValue');
      expect(typeof unc.value).toBe('number');

      sim.clearFaults();
      await waitFor(() => c.last('hp-1', 'supply_temp')?.quality === undefined && typeof c.last('hp-1', 'supply_temp')?.value === 'number', 5000);
    } finally {
      sim.clearFaults();
      await d.stop();
    }
  }, 20_000);

  it('the server restarted mid-run: the session and its monitored items come back and data resumes by itself', async () => {
    const c = collect(gwDir);
    const d = driver(opcuaConnection(port), stationDevices('station'), c);
    try {
      await d.start();
      await waitFor(() => c.readings.length > 20, 8000);
      await sim.restart(1000);
      const after = c.readings.length;
      const restartedAt = clock.now();
      const resumed = await waitFor(() => c.readings.slice(after).find((r) => r.device === 'hp-3' && r.metric === 'electric_total' && r.ts > restartedAt + 5000), 12_000);
      expect(typeof resumed.value).toBe('number');
      expect(d.health().state).toBe('connected');
      expect(d.health().counters?.['reconnects']).toBeGreaterThanOrEqual(1);
    } finally {
      await d.stop();
    }
  }, 25_000);

  it('reads on a timer in poll mode (a server that cannot subscribe)', async () => {
    const c = collect(gwDir);
    const d = driver(opcuaConnection(port), stationDevices('station', { poll: 300, options: { folder: 'Tank', mode: 'poll' } }).filter((x) => x.id === 'tank'), c);
    try {
      await d.start();
      await waitFor(() => c.readings.filter((r) => r.metric === 'top_temp').length >= 3, 5000);
      expect(c.last('tank', 'stored_energy')?.unit).toBe('kWh');
      expect(d.explain('tank').join('\n')).toContain('read every 300 ms');
    } finally {
      await d.stop();
    }
  }, 15_000);

  it('falls back to reads when the server will not give it a subscription', async () => {
    const c = collect(gwDir);
    const d = driver(opcuaConnection(port), stationDevices('station', { poll: 300, options: { folder: 'HP3' } }).slice(0, 1), c);
    sim.server.refuseSubscriptions(true);
    try {
      await d.start();
      await waitFor(() => c.readings.filter((r) => r.metric === 'electric_total').length >= 3, 5000);
      expect(typeof c.last('hp-1', 'electric_total')?.value).toBe('number');
      expect(d.health()).toMatchObject({ state: 'connected', counters: { polled: 10, monitored: 0 } });
    } finally {
      sim.server.refuseSubscriptions(false);
      await d.stop();
    }
  }, 15_000);

  it('a node the server does not have: a bad sample and a counted rejection, the rest of the device reads on', async () => {
    const c = collect(gwDir);
    const d = driver(opcuaConnection(port), stationDevices('station', { options: { folder: 'HP9' } }).slice(0, 1).concat(stationDevices('station').slice(1, 2)), c);
    try {
      await d.start();
      await waitFor(() => c.last('hp-1', 'thermal_total') && c.last('hp-2', 'thermal_total'), 8000);
      expect(c.last('hp-1', 'thermal_total')).toMatchObject({ value: null, quality: 'bad' });
      expect(c.rejects.some((r) => r.startsWith('hp-1:node_not_found'))).toBe(true);
      expect(typeof c.last('hp-2', 'thermal_total')?.value).toBe('number');
      expect(d.health().devices.find((x) => x.id === 'hp-1')?.state).toBe('offline');
    } finally {
      await d.stop();
    }
  }, 15_000);

  it('a station whose values do not change: no new samples, but keep-alives say its devices are current (not quiet)', async () => {
    // Simulated time stands still: every value stays as it is, so exception-based items send nothing new.
    const stillPort = await freePort();
    const still = station(stationScenario(stillPort), new ManualClock(Date.parse('2024-01-15T03:00:00+08:00')));
    await still.start();
    const c = collect(gwDir);
    const d = driver(opcuaConnection(stillPort), stationDevices('station').slice(0, 2), c);
    try {
      await d.start();
      await waitFor(() => c.last('hp-1', 'thermal_total') && c.last('hp-2', 'thermal_total'), 8000);
      const values = c.readings.length;
      const since = Date.now();
      // Publishing every 200 ms, a keep-alive after 10 empty cycles: within about 2 s.
      await waitFor(() => c.alive.some((a) => a.at > since), 6000);
      expect(c.readings.length).toBe(values);
      expect(c.alive.filter((a) => a.at > since).map((a) => a.devices.sort())).toContainEqual(['hp-1', 'hp-2']);
    } finally {
      await d.stop();
      await still.stop();
    }
  }, 20_000);

  it('fcgw explain lists the nodes a device monitors, and --browse walks the live server to help write a profile', async () => {
    const file = join(tmp.dir, 'cli.yaml');
    writeFileSync(
      file,
      `version: 1
site: { id: cli }
store: { path: ${join(gwDir, 'gw.db')} }
connections: [{ id: station, protocol: opcua, endpoint: "opc.tcp://127.0.0.1:${port}" }]
devices: [{ id: hp-1, class: heat_pump, connection: station, profile: energy-station, options: { folder: HP1 } }]
`,
    );
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    try {
      expect(await main(['explain', '-c', file, 'hp-1'])).toBe(0);
      expect(out).toContain('hp-1 (heat_pump) on station [opcua], profile energy-station');
      expect(out).toContain('electric_total ← Objects/EnergyStation/HP1/ElectricEnergy');
      out = '';
      expect(await main(['explain', '-c', file, 'hp-1', '--browse'])).toBe(0);
      expect(out).toMatch(/ThermalEnergy {2}Variable ns=\d+;s=EnergyStation\.HP1\.ThermalEnergy Double \[kWh\] = \d/);
      expect(out).toContain('- { metric: ?, path: OperatingMode, unit: ? }');
      out = '';
      expect(await main(['explain', '-c', file, 'station', '--browse', '--depth', '2'])).toBe(0);
      expect(out).toContain('EnergyStation/HeatMeter  Object');
    } finally {
      spy.mockRestore();
    }
  }, 15_000);
});
