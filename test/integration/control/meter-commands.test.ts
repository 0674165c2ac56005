import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../../gateway/app.js';
import { tempDir, waitFor } from '../../helpers/peers.js';
import { protocolSite, type CommandCaller } from './protocol-site.js';
import { READ } from './site.js';

/**
 * A household's load relay (DL/T 645-2007, C = 0x1C) through POST /api/devices/:id/commands, to
 * the community simulator's meter bus over TCP: tripped with the meter's password and read back
 * from status word 3, the meter then measures no power; a gateway configured with the wrong
 * password is refused by the meter (reported failed, audited); a value outside on/off is a 400.
 */

const t = tempDir('fcgw-control-dlt-');
let gw: Gateway;
let command: CommandCaller;

beforeAll(async () => {
  ({ gw, command } = await protocolSite(
    t.dir,
    'ctl-dlt',
    `energy:
  step: 5s
  buses:
    - name: meters-e
      protocol: dlt645
      port: {port}
      meters:
        - { address: "330100010101", password: "246810", device: { id: em-1, model: household, mean_kw: 0.7 } }
        - { address: "330100010102", password: "246810", device: { id: em-2, model: household, mean_kw: 1.1 } }
`,
    `connections:
  - { id: meters-e, protocol: dlt645, host: 127.0.0.1, port: {port}, timeout: 1s }
devices:
  - { id: em-1, class: grid_meter, connection: meters-e, address: "330100010101", profile: dlt645-meter, poll: 1s, options: { password: "246810", operator: "0000A001" } }
  - { id: em-2, class: grid_meter, connection: meters-e, address: "330100010102", profile: dlt645-meter, poll: 1s, options: { password: "111111" } }
`,
  ));
  await waitFor(() => ['em-1', 'em-2'].every((id) => gw.store.reads.latest({ device: id }).some((x) => x.metric === 'power')), 20_000);
}, 40_000);

afterAll(async () => {
  await gw?.stop();
  t.cleanup();
});


describe('DL/T 645 relay commands through the API', () => {
  it('off trips the relay, read back from status word 3; the meter then measures no power; on restores it', async () => {
    const r = await command('em-1', { command: 'relay', value: 'off' });
    expect(r.body).toMatchObject({ status: 'succeeded', device: 'em-1', command: 'relay', value: 'off', read_back: 'off' });
    expect(r.status).toBe(200);
    const after = Date.now();
    await waitFor(() => gw.store.reads.latest({ device: 'em-1' }).find((x) => x.metric === 'power' && x.value === 0 && x.ts > after), 5_000);
    const on = await command('em-1', { command: 'relay', value: 'on' });
    expect(on.body).toMatchObject({ status: 'succeeded', read_back: 'on' });
  });

  it('refused without the admin token, and outside its values (400 naming them)', async () => {
    expect((await command('em-1', { command: 'relay', value: 'off' }, null)).status).toBe(401);
    expect((await command('em-1', { command: 'relay', value: 'off' }, READ)).status).toBe(403);
    const r = await command('em-1', { command: 'relay', value: 'trip' });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ status: 'refused', bound: 'on|off' });
  });

  it('a wrong password: the meter refuses (0xDC), the command is failed with its reason and audited', async () => {
    const r = await command('em-2', { command: 'relay', value: 'off' });
    expect(r.status).toBe(502);
    expect(r.body).toMatchObject({ status: 'failed', code: 'DLT645_REFUSED' });
    expect(String(r.body['reason'])).toContain('wrong password');
    const row = gw.control?.audit.get(r.body['id'] as number);
    expect(row).toMatchObject({ status: 'failed', code: 'DLT645_REFUSED', caller: 'ops-desk' });
  });
});
