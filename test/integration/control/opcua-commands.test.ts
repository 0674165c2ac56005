import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../../gateway/app.js';
import { tempDir, waitFor } from '../../helpers/peers.js';
import { protocolSite, type CommandCaller } from './protocol-site.js';
import { READ } from './site.js';

/**
 * OPC UA node writes as commands: the energy station's SG Ready node of a heat pump, written by
 * the gateway's driver with node-opcua to the real node-opcua station simulator over loopback,
 * through POST /api/devices/:id/commands, and read back from the node. HP2's input is broken (it
 * answers the write Good and keeps its state): the read-back shows it, the command is failed and
 * audited.
 */

const t = tempDir('fcgw-control-opcua-');
let gw: Gateway;
let command: CommandCaller;

beforeAll(async () => {
  ({ gw, command } = await protocolSite(
    t.dir,
    'ctl-ua',
    `opcua:
  port: {port}
  heat_pumps: [{ id: hp-1, folder: HP1, rated_kw: 90 }, { id: hp-2, folder: HP2, rated_kw: 90, ignore_commands: true }]
  tank: { id: tank, folder: Tank, volume_m3: 40 }
  electricity_meter: { id: power, folder: ElectricityMeter }
  heat_meter: { id: heat, folder: HeatMeter }
`,
    `connections:
  - { id: station, protocol: opcua, endpoint: "opc.tcp://127.0.0.1:{port}", timeout: 3s, reconnect_max: 2s }
devices:
  - { id: hp-1, class: heat_pump, connection: station, profile: energy-station, options: { folder: HP1 } }
  - { id: hp-2, class: heat_pump, connection: station, profile: energy-station, options: { folder: HP2 } }
`,
  ));
  await waitFor(() => ['hp-1', 'hp-2'].every((id) => gw.store.reads.latest({ device: id }).some((x) => x.metric === 'sg_ready')), 20_000);
}, 40_000);

afterAll(async () => {
  await gw?.stop();
  t.cleanup();
});


const sgTruth = () => (gw.simulators?.groundTruth()['opcua-station'] as { sg_ready: Record<string, { state: string; changes: number }> }).sg_ready;

describe('OPC UA node writes as commands', () => {
  it('SG Ready: accepted with the admin token, written to the node, read back; the heat pump runs as told', async () => {
    const r = await command('hp-1', { command: 'sg_ready', value: 'recommend' });
    expect(r.body).toMatchObject({ status: 'succeeded', device: 'hp-1', command: 'sg_ready', value: 'recommend', read_back: 'recommend', dry_run: false });
    expect(r.status).toBe(200);
    expect(sgTruth()['hp-1']).toEqual({ state: 'recommend', changes: 1 });
    // The PLC pushes the new state: the monitored node brings it into the store.
    await waitFor(() => gw.store.reads.latest({ device: 'hp-1' }).find((x) => x.metric === 'sg_ready' && x.value === 'recommend'), 5_000);
  });

  it('refused without the admin token and outside its bounds (400 naming the allowed values); nothing is written', async () => {
    expect((await command('hp-1', { command: 'sg_ready', value: 'lock' }, null)).status).toBe(401);
    expect((await command('hp-1', { command: 'sg_ready', value: 'lock' }, READ)).status).toBe(403);
    const r = await command('hp-1', { command: 'sg_ready', value: 'turbo' });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ status: 'refused', bound: 'lock|normal|recommend|force_on' });
    // An attacker's spelling of the raw node value is no value of the command either.
    expect((await command('hp-1', { command: 'sg_ready', value: 4 })).status).toBe(400);
    expect(sgTruth()['hp-1']).toEqual({ state: 'recommend', changes: 1 });
  });

  it('a heat pump that takes the write but not the state: reported failed with what the node reads back, and audited', async () => {
    const r = await command('hp-2', { command: 'sg_ready', value: 'force_on' });
    expect(r.status).toBe(502);
    expect(r.body).toMatchObject({ status: 'failed', code: 'READBACK_MISMATCH', read_back: 'normal' });
    const row = gw.control?.audit.get(r.body['id'] as number);
    expect(row).toMatchObject({ status: 'failed', code: 'READBACK_MISMATCH', caller: 'ops-desk', read_back: '"normal"' });
    expect(sgTruth()['hp-2']).toEqual({ state: 'normal', changes: 0 });
  });
});
