import { execFileSync, spawn } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { startGatewayProcess } from '../../helpers/gateway-process.js';
import { findPeer, freePort, killAndWait, tempDir, waitFor } from '../../helpers/peers.js';
import { MOSQUITTO, startMosquitto } from '../mqtt/mosquitto.js';

/**
 * Record and replay: `fcgw record` captures what a Modbus heat meter (pymodbus) and two MQTT
 * devices (through a real Mosquitto) say while a live gateway reads the same devices; `fcgw
 * replay` runs the recordings offline through the profiles and the pipeline, and gives the
 * samples the live gateway stored; a recording becomes a golden file `fcgw profile test` passes.
 * Plates in the MQTT payloads never reach the recording in clear.
 */
const ROOT = join(import.meta.dirname, '../../..');
const BIN = join(ROOT, 'bin/fcgw.js');
const tmp = tempDir('fcgw-rec-');
const stops: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const s of stops.splice(0).reverse()) await s();
  tmp.cleanup();
});

/** `fcgw ARGS` as a process in the integrator's directory: its stderr so far, and its end. */
function start(args: string[]): { err: () => string; done: Promise<{ code: number | null; out: string; err: string }> } {
  const p = spawn(process.execPath, [BIN, ...args], { cwd: tmp.dir, env: { ...process.env, FCGW_SITE_SECRET: 'test-secret-0123456789abcdef' } });
  let out = '';
  let err = '';
  p.stdout.on('data', (b: Buffer) => (out += b.toString()));
  p.stderr.on('data', (b: Buffer) => (err += b.toString()));
  return { err: () => err, done: new Promise((resolve) => p.on('exit', (code) => resolve({ code, out, err }))) };
}
const fcgw = (args: string[]) => start(args).done;

const PY = (() => {
  const py = findPeer('python3 (with pymodbus)', ['/usr/bin/python3', 'python3']);
  try {
    if (py) execFileSync(py, ['-c', 'import pymodbus.server'], { stdio: 'ignore' });
    return py;
  } catch {
    return undefined;
  }
})();

describe.skipIf(!PY || !MOSQUITTO)('fcgw record and fcgw replay (Modbus, MQTT)', () => {
  it('replays to the samples the live gateway stored; a recording becomes a green golden file; no plate in clear', async () => {
    cpSync(join(ROOT, 'test/fixtures/integrator'), tmp.dir, { recursive: true });
    const registers = { holding: { 0: [0x0001, 0xe240], 2: [0x0000, 0x007d], 4: [0x0000, 0x0e10], 6: [5520, 4210] } };
    const mport = await freePort();
    const server = spawn(PY as string, [join(ROOT, 'test/fixtures/pymodbus/registers_server.py'), String(mport), JSON.stringify(registers)], { stdio: ['ignore', 'pipe', 'pipe'] });
    stops.push(() => killAndWait(server, 'SIGTERM'));
    await new Promise((r) => createInterface({ input: server.stdout }).once('line', r));
    const mosq = await startMosquitto({ dir: tmp.dir });
    stops.push(() => mosq.stop());
    writeFileSync(
      join(tmp.dir, 'gateway.yaml'),
      `version: 1
site: { id: rec }
store: { path: ./data/fcgw.db }
api: { port: 0 }
profiles: { dirs: [./profiles] }
connections:
  - { id: plant, protocol: modbus-tcp, host: 127.0.0.1, port: ${mport}, timeout: 1s }
  - { id: lan, protocol: mqtt, url: "${mosq.url}" }
devices:
  - { id: hm-b7, class: heat_meter, connection: plant, profile: heat-meter-hm3, unit: 1 }
  - { id: wm-1, class: water_meter, connection: lan, profile: generic-json }
  - { id: gate-north, class: parking_garage, connection: lan, profile: barrier-gate, options: { gate: north } }
`,
    );
    const gw = await startGatewayProcess('gateway.yaml', {}, 30_000, tmp.dir);
    stops.push(async () => {
      if (gw.proc.exitCode === null) {
        gw.proc.kill('SIGTERM');
        await gw.exited;
      }
    });
    const recorders = [
      start(['record', '-c', 'gateway.yaml', '--device', 'hm-b7', '--for', '2500ms', '-o', 'hm.rec.json']),
      start(['record', '-c', 'gateway.yaml', '--device', 'wm-1', '--for', '4s', '-o', 'wm.rec.json']),
      start(['record', '-c', 'gateway.yaml', '--device', 'gate-north', '--for', '4s', '-o', 'gate.rec.json']),
    ];
    const recordings = Promise.all(recorders.map((r) => r.done));
    // The devices speak once the MQTT recorders listen (subscribed).
    await waitFor(() => recorders.slice(1).every((r) => r.err().includes('listening\n')), 20_000);
    const pub = await mqtt.connectAsync(mosq.url, { clientId: 'devices' });
    stops.push(() => void pub.end(true));
    for (let i = 0; i < 3; i++) await pub.publishAsync('devices/wm-1/up', JSON.stringify({ ts: Date.UTC(2024, 10, 22, 2, i), values: { volume_total: 100 + i, flow: 1.5 + i } }), { qos: 1 });
    await pub.publishAsync('parking/gate/north/event', JSON.stringify({ type: 'vehicle_pass', direction: 'in', plate_no: '浙A12345', gate_id: 'north', is_resident: true, pass_time: '2024-11-22T18:01:02+08:00' }), { qos: 1 });
    const done = await recordings;
    for (const r of done) expect(r.code, r.err).toBe(0);

    // The live run: what the gateway stored.
    type Latest = { device: string; metric: string; value: unknown; quality: string };
    const stored = await waitFor(async () => {
      const rows = (await (await fetch(`${gw.apiUrl}/api/latest`)).json()) as Latest[];
      return rows.filter((r) => r.device === 'hm-b7').length === 5 && rows.some((r) => r.device === 'wm-1' && r.value === 102) ? rows : undefined;
    }, 15_000);
    const events = (await (await fetch(`${gw.apiUrl}/api/events?device=gate-north`)).json()) as { attributes: Record<string, unknown> }[];

    // The recordings: reads with words, messages with payloads; the plate only as a pseudonym.
    const hm = JSON.parse(readFileSync(join(tmp.dir, 'hm.rec.json'), 'utf8')) as { entries: { poll: number; fn: string; address: number; words?: number[] }[] };
    const first = hm.entries.filter((e) => e.poll === 0).sort((a, b) => a.address - b.address);
    // The reads as the driver plans them: the counter in the slow group, the rest in one read.
    expect(first.map((e) => [e.fn, e.address, e.words])).toEqual([['holding', 0, [0x0001, 0xe240]], ['holding', 2, [0x0000, 0x007d, 0x0000, 0x0e10, 5520, 4210]]]);
    expect(new Set(hm.entries.map((e) => e.poll)).size).toBeGreaterThanOrEqual(2);
    const gateText = readFileSync(join(tmp.dir, 'gate.rec.json'), 'utf8');
    expect(gateText).toContain('parking/gate/north/event');
    expect(gateText).not.toContain('浙A12345');
    expect(gateText).not.toContain('\\u6d59A12345');

    // Replayed offline: the samples the live gateway stored (last value of each metric).
    const replay = async (rec: string, device: string) => {
      const r = await fcgw(['replay', rec, '-c', 'gateway.yaml', '-o', `${device}.cases.yaml`]);
      expect(r.code, r.err).toBe(0);
      const last = new Map<string, string>();
      for (const m of r.out.matchAll(/^ {2}\S+ (\w+) = (\S+) (\w+)/gm)) last.set(m[1] as string, `${m[2]} ${m[3]}`);
      const live = new Map(stored.filter((s) => s.device === device).map((s) => [s.metric, `${JSON.stringify(s.value)} ${s.quality}`]));
      expect(last).toEqual(live);
      return r.out;
    };
    expect(await replay('hm.rec.json', 'hm-b7')).toMatch(/hm-b7 \(heat-meter-hm3\): \d+ polls, \d+ samples, 0 refused/);
    expect(await replay('wm.rec.json', 'wm-1')).toContain('wm-1 (generic-json): 3 messages, 6 samples, 0 refused');
    const gate = await fcgw(['replay', 'gate.rec.json', '-c', 'gateway.yaml']);
    expect(gate.out).toContain('gate-north (barrier-gate): 1 messages, 0 samples, 0 refused');
    // The gateway itself never stores a plate either.
    expect(JSON.stringify(events)).not.toContain('浙A12345');

    // A recording as a golden file: green under fcgw profile test.
    for (const [profile, cases] of [['heat-meter-hm3', 'hm-b7.cases.yaml'], ['generic-json', 'wm-1.cases.yaml']] as const) {
      const t = await fcgw(['profile', 'test', '-c', 'gateway.yaml', profile, cases]);
      expect(t.out, t.err).toMatch(/ 0 failed\n$/);
      expect(t.code).toBe(0);
    }
  }, 90_000);
});
