import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { createLogger } from '../../../gateway/runtime/log.js';
import { updateRollups } from '../../../gateway/store/maintenance.js';
import { tempDir } from '../../helpers/peers.js';

const T0 = Date.UTC(2026, 5, 1, 2, 0, 0);
const token = 'test-token-0123456789abcdef';

async function makeGateway(dir: string, extra = '') {
  const config = parseConfig(
    `version: 1
site: { id: apitest }
store: { path: ${join(dir, 'gw.db')} }
api: { host: 127.0.0.1, port: 0 ${extra} }
`,
    'test.yaml',
    {},
  );
  const gw = Gateway.create({ config, log: createLogger({ level: 'silent' }), processMetrics: false, env: { FCGW_SITE_SECRET: 'x'.repeat(32) } });
  await gw.start();
  const profile = { id: 'test', description: 'test', classes: ['grid_meter', 'parking_garage'], protocol: 'test', file: 'test' };
  gw.devices.add({ id: 'meter-1', class: 'grid_meter', connection: 'none', profile: 'test', tags: { building: 'b1' }, options: {}, enabled: true }, profile, false);
  gw.devices.add({ id: 'gate-1', class: 'parking_garage', connection: 'none', profile: 'test', tags: {}, options: {}, enabled: true }, profile, false);
  return gw;
}

describe('HTTP API', () => {
  let dir: ReturnType<typeof tempDir>;
  let gw: Gateway;
  const get = async (url: string) => {
    const res = await (gw.api as NonNullable<Gateway['api']>).inject({ method: 'GET', url });
    return { status: res.statusCode, body: res.headers['content-type']?.toString().includes('json') ? res.json() : res.body };
  };

  beforeAll(async () => {
    dir = tempDir();
    gw = await makeGateway(dir.dir);
    await gw.ingestor.submit({
      readings: [
        ...Array.from({ length: 120 }, (_, i) => ({ device: 'meter-1', metric: 'power', value: i * 10, ts: T0 + i * 1000 })),
        { device: 'meter-1', metric: 'import_total', value: 12.5, unit: 'kWh', ts: T0 },
      ],
      events: [{ device: 'gate-1', type: 'vehicle_entry', ts: T0, attributes: { vehicle: '浙A12345', gate: 'north' } }],
    });
    updateRollups(gw.store);
  });
  afterAll(async () => {
    await gw.stop();
    dir.cleanup();
  });

  it('GET /api/health says ok with store details', async () => {
    const r = await get('/api/health');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'ok', site: 'apitest', drivers: [], sinks: [], store: { last_seq: { samples: 121, events: 1 }, checkpoint_thread: false } });
    // 122 rows do not call for the checkpoint thread (checkpointer.ts): SQLite checkpoints in its
    // commits. The WAL holds what no checkpoint has folded in yet: a number, and small.
    const wal = (r.body as { store: { wal_bytes: number } }).store.wal_bytes;
    expect(wal).toBeGreaterThanOrEqual(0);
    expect(wal).toBeLessThan(64 * 2 ** 20);
  });

  it('GET /api/devices lists devices with status, last seen and quality', async () => {
    const r = await get('/api/devices');
    expect(r.body).toEqual([
      expect.objectContaining({ id: 'meter-1', class: 'grid_meter', status: 'online', quality: 'good', tags: { building: 'b1' } }),
      // A gate sends events only: its last event is when it was last seen.
      expect.objectContaining({ id: 'gate-1', class: 'parking_garage', status: 'online', lastSeen: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), quality: null }),
    ]);
  });

  it('GET /api/latest gives catalog names, units, quality', async () => {
    const r = await get('/api/latest?device=meter-1');
    expect(r.body).toEqual([
      { device: 'meter-1', class: 'grid_meter', metric: 'import_total', ts: new Date(T0).toISOString(), value: 12500, unit: 'Wh', quality: 'good' },
      { device: 'meter-1', class: 'grid_meter', metric: 'power', ts: new Date(T0 + 119_000).toISOString(), value: 1190, unit: 'W', quality: 'good' },
    ]);
  });

  it('GET /api/series gives raw points and rollups by step', async () => {
    const raw = await get(`/api/series?device=meter-1&metric=power&from=${T0}&to=${T0 + 3000}`);
    expect(raw.body).toMatchObject({ device: 'meter-1', metric: 'power', unit: 'W' });
    expect((raw.body as { points: unknown[] }).points).toEqual([
      [new Date(T0).toISOString(), 0, 'good'],
      [new Date(T0 + 1000).toISOString(), 10, 'good'],
      [new Date(T0 + 2000).toISOString(), 20, 'good'],
    ]);
    const step = await get(`/api/series?device=meter-1&metric=power&from=${new Date(T0).toISOString()}&to=${T0 + 120_000}&step=1m`);
    expect((step.body as { rollups: unknown[] }).rollups).toEqual([
      { ts: new Date(T0).toISOString(), count: 60, avg: 295, min: 0, max: 590, last: 590 },
      { ts: new Date(T0 + 60_000).toISOString(), count: 60, avg: 895, min: 600, max: 1190, last: 1190 },
    ]);
  });

  it('GET /api/events gives events with personal data pseudonymised', async () => {
    const r = await get('/api/events?type=vehicle_entry');
    expect(r.body).toEqual([{ ts: new Date(T0).toISOString(), device: 'gate-1', class: 'parking_garage', type: 'vehicle_entry', attributes: { vehicle: expect.stringMatching(/^p_[0-9a-f]{20}$/), gate: 'north' } }]);
    expect(JSON.stringify(r.body)).not.toContain('12345');
  });

  it('GET /metrics shows ingest counters', async () => {
    const r = await get('/metrics');
    expect(r.body).toContain('fcgw_ingest_samples_total{class="grid_meter",quality="good"} 121');
    expect(r.body).toContain('fcgw_ingest_events_total{class="parking_garage",type="vehicle_entry"} 1');
  });

  it.each([
    ['/api/series?device=meter-1', 'metric is required'],
    ['/api/series?device=meter-1&metric=power&from=yesterday', 'from: "yesterday" is not a time'],
    ['/api/series?device=meter-1&metric=power&step=5m', 'step'],
    ['/api/latest?colour=red', 'unknown parameter colour'],
    ['/api/latest?class=pv_invertor', '"pv_invertor" is not a device class of the catalog (did you mean "pv_inverter"?)'],
    ['/api/events?device=Bad%20Id', 'device'],
    [`/api/series?device=meter-1&metric=power&from=${T0 + 10}&to=${T0}`, 'from must be before to'],
  ])('GET %s → 400 with a code and a message', async (url, msg) => {
    const r = await get(url);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: { code: 'BAD_PARAMETER', message: expect.stringContaining(msg) } });
  });

  it('unknown routes and series are 404', async () => {
    expect((await get('/api/nothing')).body).toMatchObject({ error: { code: 'NOT_FOUND' } });
    expect((await get('/api/series?device=meter-1&metric=soc')).status).toBe(404);
  });

  it('GET /api/live streams committed samples and events as Server-Sent Events', async () => {
    const url = new URL(`${gw.apiUrl}/api/live?device=meter-1`);
    const received: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const req = request(url, (res) => {
        expect(res.headers['content-type']).toContain('text/event-stream');
        res.on('data', (chunk: Buffer) => {
          received.push(chunk.toString());
          if (received.join('').includes('"value":4242')) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', (e) => (received.join('').includes('4242') ? resolve() : reject(e)));
      req.end();
      setTimeout(() => void gw.ingestor.submit({ readings: [{ device: 'meter-1', metric: 'power', value: 4242, ts: T0 + 500_000 }] }), 200);
    });
    const text = received.join('');
    expect(text).toContain('event: sample');
    expect(text).toContain(`"device":"meter-1","class":"grid_meter","metric":"power","ts":"${new Date(T0 + 500_000).toISOString()}","value":4242,"quality":"good"`);
  });
});

describe('HTTP API with tokens', () => {
  it('requires a bearer token on /api and /metrics', async () => {
    const dir = tempDir();
    const gw = await makeGateway(dir.dir, `, tokens: ["${token}"]`);
    try {
      const api = gw.api as NonNullable<Gateway['api']>;
      expect((await api.inject({ url: '/api/health' })).statusCode).toBe(401);
      expect((await api.inject({ url: '/metrics' })).statusCode).toBe(401);
      expect((await api.inject({ url: '/api/health', headers: { authorization: 'Bearer wrong-token-0123456789ab' } })).statusCode).toBe(401);
      expect((await api.inject({ url: '/api/health', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);
      expect((await api.inject({ url: `/api/health?access_token=${token}` })).statusCode).toBe(200);
    } finally {
      await gw.stop();
      dir.cleanup();
    }
  });
});
