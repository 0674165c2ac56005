import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { createLogger } from '../../../gateway/runtime/log.js';
import type { CommandResponder } from '../../../simulators/transport/commands.js';
import { tempDir, waitFor } from '../../helpers/peers.js';
import { ADMIN, READ, controlSite } from './site.js';

/**
 * Every command kind against the simulators over the real protocols (Modbus TCP writes of a
 * holding register and a coil, MQTT command topics through the embedded broker): accepted with
 * the admin token and verified by read-back; refused without it, outside its bounds, during an
 * interlock or a dwell; reported failed when the read-back disagrees or never comes; every
 * outcome in the audit log and in the events the sinks read.
 */

const t = tempDir('fcgw-control-');
let gw: Gateway;
let base: string;

beforeAll(async () => {
  const site = await controlSite(t.dir);
  const config = parseConfig(site.yaml, site.file, {});
  gw = Gateway.create({ config, log: createLogger({ level: 'silent' }), processMetrics: false, env: { FCGW_SITE_SECRET: 'k'.repeat(32) } });
  await gw.start();
  base = gw.apiUrl as string;
  // Every Modbus device polled once (a command to a device the gateway never heard is refused as offline).
  await waitFor(() => ['hp-1', 'hp-2', 'ess', 'ess-2'].every((id) => gw.store.reads.latest({ device: id }).length > 0), 15_000);
}, 30_000);

afterAll(async () => {
  await gw?.stop();
  t.cleanup();
});

async function command(device: string, body: Record<string, unknown>, token: string | undefined = ADMIN, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/api/devices/${device}/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const truth = () => gw.simulators?.groundTruth() ?? {};
const plant = () => truth()['energy-plant'] as { devices?: unknown } & Record<string, Record<string, Record<string, number>>>;
const responder = () => gw.simulators?.groups.find((g) => g.name === 'transport-commands') as CommandResponder;

describe('commands over the real protocols', () => {
  it('SG Ready over Modbus: accepted with the admin token, written, read back from the unit; the unit runs as told', async () => {
    const r = await command('hp-1', { command: 'sg_ready', value: 'recommend' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'succeeded', device: 'hp-1', command: 'sg_ready', value: 'recommend', read_back: 'recommend', dry_run: false });
    expect(plant()['hp-1']?.['sg_ready_changes']).toBe(1);
    // The unit reports its new state on its own input register: the next poll stores it.
    await waitFor(() => gw.store.reads.latest({ device: 'hp-1' }).find((x) => x.metric === 'sg_ready' && x.value === 'recommend'), 5_000);
  });

  it('a second SG Ready change inside the dwell is refused with the time it becomes allowed; asking for the same state is no change', async () => {
    const again = await command('hp-1', { command: 'sg_ready', value: 'recommend' });
    expect(again.status).toBe(200);
    const r = await command('hp-1', { command: 'sg_ready', value: 'normal' });
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ status: 'refused', code: 'DWELL' });
    expect(String(r.body['reason'])).toMatch(/next change is allowed from \d{4}-\d\d-\d\dT/);
    expect(plant()['hp-1']?.['sg_ready_changes']).toBe(1);
  });

  it('a unit that takes the write but not the state: reported failed with what it reads back, and audited', async () => {
    const r = await command('hp-2', { command: 'sg_ready', value: 'force_on' });
    expect(r.status).toBe(502);
    expect(r.body).toMatchObject({ status: 'failed', code: 'READBACK_MISMATCH', read_back: 'normal' });
    const row = gw.control?.audit.get(r.body['id'] as number);
    expect(row).toMatchObject({ status: 'failed', code: 'READBACK_MISMATCH', caller: 'ops-desk', read_back: '"normal"' });
  });

  it('battery over Modbus: the remote-control coil and the power setpoint register, each read back; the battery follows', async () => {
    const on = await command('ess', { command: 'remote_control', value: true });
    expect(on.body).toMatchObject({ status: 'succeeded', read_back: true });
    const sp = await command('ess', { command: 'power_setpoint', value: -20000 });
    expect(sp.status, JSON.stringify(sp.body)).toBe(200);
    expect(sp.body).toMatchObject({ status: 'succeeded', read_back: -20000 });
    // The cabinet now discharges at 20 kW whatever the community does (its own logic would not).
    await waitFor(() => gw.store.reads.latest({ device: 'ess' }).find((x) => x.metric === 'power' && x.value === -20000), 5_000);
  });

  it('outside its bounds: 400 naming the bound (the device rating, the enum, the pattern, the type)', async () => {
    const big = await command('ess', { command: 'power_setpoint', value: 60000 });
    expect(big.status).toBe(400);
    expect(big.body).toMatchObject({ status: 'refused', code: 'OUT_OF_BOUNDS', bound: '-50000..50000 W' });
    expect(String((big.body['error'] as { message: string }).message)).toContain('-50000..50000 W');
    const frac = await command('ess', { command: 'power_setpoint', value: 100.5 });
    expect(frac.body).toMatchObject({ code: 'OUT_OF_BOUNDS' });
    const turbo = await command('hp-1', { command: 'sg_ready', value: 'turbo' });
    expect(turbo.status).toBe(400);
    expect(turbo.body['bound']).toBe('lock|normal|recommend|force_on');
    const sneaky = await command('locker-1', { command: 'unlock', value: 'A-01"; rm' });
    expect(sneaky.status).toBe(400);
    expect(String(sneaky.body['bound'])).toContain('^[A-Z]-[0-9]{1,3}$');
    const typed = await command('ess', { command: 'remote_control', value: 'true' });
    expect(typed.status).toBe(400);
    const unknown = await command('hp-1', { command: 'defrost' });
    expect(unknown.status).toBe(404);
    expect(String(unknown.body['reason'])).toContain('sg_ready');
  });

  it('during an interlock: 409 with its reason, nothing written', async () => {
    const r = await command('ess-2', { command: 'power_setpoint', value: 1000 });
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ status: 'refused', code: 'INTERLOCK' });
    expect(String(r.body['reason'])).toContain('under maintenance');
  });

  it('barrier over MQTT: the gate opens, says so, and the visitor drives in', async () => {
    const r = await command('gate-north', { command: 'open' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'succeeded', device: 'gate-north', command: 'open' });
    expect((responder().groundTruth()['opened'] as Record<string, number>)['north']).toBe(1);
    await waitFor(() => gw.store.reads.queryEvents({ device: 'gate-north', type: 'vehicle_entry' }).find((e) => e.attributes['resident'] === false), 10_000);
  });

  it('locker over MQTT: one compartment unlocked, confirmed by the bank with that compartment', async () => {
    const r = await command('locker-1', { command: 'unlock', value: 'B-07' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'succeeded', read_back: 'B-07' });
    expect(responder().groundTruth()['unlocked']).toEqual([expect.objectContaining({ bank: '1', compartment: 'B-07' })]);
  });

  it('a jammed barrier never confirms: failed after the deadline, audited', async () => {
    responder().jam('gate:south');
    const r = await command('gate-south', { command: 'open' });
    expect(r.status).toBe(502);
    expect(r.body).toMatchObject({ status: 'failed', code: 'READBACK_TIMEOUT' });
    expect(gw.control?.audit.get(r.body['id'] as number)?.status).toBe('failed');
  }, 15_000);

  it('idempotency keys: a retry gets the first outcome and sends nothing; the same key for another command is refused', async () => {
    const first = await command('gate-north', { command: 'open' }, ADMIN, { 'idempotency-key': 'visitor-42' });
    expect(first.body['status']).toBe('succeeded');
    const retry = await command('gate-north', { command: 'open', idempotency_key: 'visitor-42' });
    expect(retry.body).toMatchObject({ id: first.body['id'], status: 'succeeded', replayed: true });
    expect((responder().groundTruth()['opened'] as Record<string, number>)['north']).toBe(2);
    const other = await command('gate-north', { command: 'open', dry_run: true, idempotency_key: 'visitor-42' });
    expect(other.status).toBe(422);
  });

  it('dry run: every check runs, nothing is sent, the audit says so', async () => {
    const r = await command('locker-1', { command: 'unlock', value: 'C-01', dry_run: true });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'dry_run', dry_run: true });
    expect(responder().groundTruth()['unlocked']).toHaveLength(1);
    const bad = await command('locker-1', { command: 'unlock', value: 'nope', dry_run: true });
    expect(bad.status).toBe(400);
  });

  it('without an admin token: 401/403 for every spelling, and nothing reaches a device or the audit', async () => {
    const before = gw.control?.audit.list({ limit: 1000 }).length;
    const opened = () => (responder().groundTruth()['opened'] as Record<string, number>)['north'];
    const n = opened();
    const body = JSON.stringify({ command: 'open' });
    const post = (path: string, headers: Record<string, string> = {}) =>
      fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }).then((r) => r.status);
    expect(await post('/api/devices/gate-north/commands')).toBe(401);
    expect(await post('/api/devices/gate-north/commands', { authorization: `Bearer ${READ}` })).toBe(403);
    expect(await post(`/api/devices/gate-north/commands?access_token=${READ}`)).toBe(403);
    expect(await post('/api/devices/gate-north/commands', { authorization: `Basic ${Buffer.from(`x:${ADMIN}`).toString('base64')}` })).toBe(401);
    expect(await post('/api/devices/gate-north/commands', { authorization: `Bearer ${ADMIN.toUpperCase()}` })).toBe(401);
    expect(await post('/api/devices/gate-north/commands', { authorization: `Bearer ${ADMIN}x` })).toBe(401);
    expect(await post('/api/devices/gate-north/commands', { authorization: `Bearer ${READ}`, 'x-forwarded-for': '127.0.0.1' })).toBe(403);
    for (const path of ['/api/devices/gate-north/commands/', '//api/devices/gate-north/commands', '/api/devices/gate-north//commands', '/API/devices/gate-north/commands', '/api/devices/gate-north/%63ommands', '/api/devices/./gate-north/commands', '/api/devices/gate-north/commands%00', '/api/devices/gate-north/commands;x']) {
      const s = await post(path, { authorization: `Bearer ${READ}` });
      expect(s, path).toBeGreaterThanOrEqual(400);
      expect([200, 201, 202, 502], path).not.toContain(s);
    }
    expect(opened()).toBe(n);
    expect(gw.control?.audit.list({ limit: 1000 }).length).toBe(before);
  });

  it('the audit log lists every command with its caller, and each outcome is an event the sinks read', async () => {
    const res = await fetch(`${base}/api/commands?limit=100`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(res.status).toBe(200);
    const rows = (await res.json()) as { status: string; caller: string; command: string }[];
    expect(new Set(rows.map((r) => r.status))).toEqual(new Set(['succeeded', 'failed', 'refused', 'dry_run']));
    expect(rows.every((r) => r.caller === 'ops-desk')).toBe(true);
    expect((await fetch(`${base}/api/commands`, { headers: { authorization: `Bearer ${READ}` } })).status).toBe(403);
    const events = gw.store.reads.queryEvents({ type: 'command', limit: 1000 });
    expect(events.length).toBe(rows.length);
    expect(events.find((e) => e.device === 'hp-2')?.attributes).toMatchObject({ status: 'failed', code: 'READBACK_MISMATCH', caller: 'ops-desk' });
    // What a device takes, for the dashboard (a read token is enough).
    const list = await fetch(`${base}/api/devices/locker-1/commands`, { headers: { authorization: `Bearer ${READ}` } });
    expect(await list.json()).toEqual([expect.objectContaining({ name: 'unlock' })]);
  });

  it('fcgw command: the same checks, read-back and audit from the command line', async () => {
    const cli = (args: string[], env: Record<string, string> = {}) =>
      new Promise<{ code: number; out: string; err: string }>((resolve) => {
        execFile(process.execPath, [join(import.meta.dirname, '../../../bin/fcgw.js'), 'command', '--url', base, ...args], { env: { ...process.env, ...env } }, (e, out, err) =>
          resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err }),
        );
      });
    const ok = await cli(['ess', 'power_setpoint', '10000'], { FCGW_ADMIN_TOKEN: ADMIN });
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toMatch(/^ess power_setpoint 10000: succeeded, read back 10000 \(audit #\d+\)/);
    const big = await cli(['ess', 'power_setpoint', '99999'], { FCGW_ADMIN_TOKEN: ADMIN });
    expect(big.code).toBe(1);
    expect(big.err).toContain('-50000..50000 W');
    const anon = await cli(['ess', 'power_setpoint', '10000'], { FCGW_ADMIN_TOKEN: READ });
    expect(anon.code).toBe(2);
    expect(anon.err).toContain('refused (403)');
    expect(gw.control?.audit.list({ device: 'ess', limit: 1 })[0]).toMatchObject({ command: 'power_setpoint', status: 'refused', caller: 'ops-desk' });
  }, 30_000);
});
