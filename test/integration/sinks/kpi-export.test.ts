import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { KpiOutbox, type KpiPoint } from '../../../gateway/kpi/outbox.js';
import { systemClock } from '../../../gateway/model/clock.js';
import { createSinks } from '../../../gateway/sinks/index.js';
import { sinkConsumer } from '../../../gateway/sinks/runner.js';
import { Store } from '../../../gateway/store/store.js';
import { tempDir, waitFor } from '../../helpers/peers.js';
import { INFLUXD, startInfluxdb1, type Influxdb1 } from '../../helpers/servers.js';
import { configWith, memoryLog } from './fixtures.js';

/**
 * The KPI outbox through a real sink into Debian's influxd 1.6: records written while the server
 * is down wait in the outbox and arrive when it is back; sent all over again (a crash before the
 * cursor moved), each is still one point with its value (same series, same timestamp).
 */
describe.skipIf(!INFLUXD)('KPI export through an influxdb1 sink', () => {
  const tmp = tempDir('fcgw-kpi-export-');
  let ix: Influxdb1;
  beforeAll(async () => {
    ix = await startInfluxdb1(tmp.dir);
    await ix.createDatabase('district');
  });
  afterAll(async () => {
    await ix?.stop();
    tmp.cleanup();
  });

  it('an outage loses nothing and a resend lands once', async () => {
    const store = Store.open({ path: join(tmp.dir, 'k.db'), site: 'k1' });
    const outbox = new KpiOutbox(store);
    const cfg = configWith('k1', [{ id: 'ix', type: 'influxdb1', url: ix.url, database: 'district', flush_interval: '50ms', backoff_max: '200ms' }]);
    const { log, lines } = memoryLog();
    const t0 = Date.now() - 86_400_000;
    const point = (i: number): KpiPoint => ({ kind: 'kpi', site: 'k1', kpi: 'pv_generation', window: 'hour', scope: 'site', ts: t0 + i * 60_000, start: t0, end: t0 + 3_600_000, closed: false, value: i * 100.5, unit: 'Wh', coverage: 1, status: 'unknown' });

    await ix.stop();
    const sinks = createSinks(cfg, store, { clock: systemClock, log, registry: new Registry(), kpiOutbox: outbox });
    await sinks.start();
    outbox.append(Array.from({ length: 50 }, (_, i) => point(i)));
    await waitFor(() => lines().some((l) => String(l['msg']).startsWith('KPI export cannot deliver')), 10_000);
    await ix.start();
    await waitFor(() => (outbox.cursor(sinkConsumer('ix')) === outbox.maxSeq() ? true : undefined), 20_000);
    // A crash before the cursor moved: everything again.
    outbox.setCursor(sinkConsumer('ix'), 0);
    await sinks.stop();
    await sinks.start();
    await waitFor(() => (outbox.cursor(sinkConsumer('ix')) === outbox.maxSeq() ? true : undefined), 20_000);
    await sinks.stop();

    const rows = await ix.query('district', `SELECT value, closed, status_code FROM kpi WHERE site = 'k1' AND kpi = 'pv_generation' AND "window" = 'hour'`);
    const values = rows[0]?.values ?? [];
    expect(values.length).toBe(50);
    expect(values.map((v) => v[1])).toEqual(Array.from({ length: 50 }, (_, i) => i * 100.5));
    expect(values.map((v) => v[0])).toEqual(Array.from({ length: 50 }, (_, i) => t0 + i * 60_000));
    store.close();
  }, 60_000);
});
