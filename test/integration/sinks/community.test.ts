import { afterAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { DEVICE_CLASSES } from '../../../gateway/model/catalog.js';
import { Store } from '../../../gateway/store/store.js';
import { relocatedDemo } from '../../helpers/demo.js';
import { tempDir, waitFor } from '../../helpers/peers.js';
import { startVictoriaMetrics, VICTORIA_METRICS, type VictoriaMetrics } from '../../helpers/servers.js';
import { dayStart, memoryLog, type SeriesStat } from './fixtures.js';
import { inspectStore } from '../../helpers/store-file.js';

const SPEED = 720;

/** Per `${class}_${metric}|${device}`: samples that carry a value, and events (count = sum). */
function expectedFromStore(store: Store): Map<string, SeriesStat> {
  const out = new Map<string, SeriesStat>();
  const rows = inspectStore(store, (db) => db
    .prepare(
      `SELECT s.class AS cls, s.metric, s.device, count(*) AS n,
              total(CASE WHEN typeof(x.value) IN ('integer', 'real') THEN x.value ELSE 0 END) AS sum
       FROM samples x JOIN series s ON s.id = x.series_id WHERE x.value IS NOT NULL GROUP BY s.id`,
    )
    .all()) as { cls: string; metric: string; device: string; n: number; sum: number }[];
  for (const r of rows) out.set(`${r.cls}_${r.metric}|${r.device}`, { count: r.n, sum: Math.round(r.sum * 100) / 100 });
  const ev = inspectStore(store, (db) => db.prepare('SELECT class AS cls, type, device, count(*) AS n FROM events GROUP BY class, type, device').all()) as { cls: string; type: string; device: string; n: number }[];
  for (const r of ev) out.set(`${r.cls}_${r.type}|${r.device}`, { count: r.n, sum: r.n });
  return out;
}

/**
 * The demo community (Modbus, MQTT and LoRaWAN simulators speaking the real protocols) at
 * 720× speed into a gateway with an influxdb2 sink: after the shutdown flush, every series in
 * VictoriaMetrics holds exactly what the store holds, sample for sample.
 */
describe.skipIf(!VICTORIA_METRICS)('a simulated community through the gateway into VictoriaMetrics', () => {
  const tmp = tempDir('fcgw-sink-community-');
  let vm: VictoriaMetrics | undefined;
  let gw: Gateway | undefined;
  afterAll(async () => {
    await gw?.stop();
    await vm?.stop();
    tmp.cleanup();
  });

  it('arrives completely: per-series counts and sums in the server equal the store', async () => {
    vm = await startVictoriaMetrics(tmp.dir);
    const url = vm.url;
    const { configFile, text } = await relocatedDemo(tmp.dir, (doc) => {
      doc.setIn(['simulators', 'speed'], SPEED);
      // Two days back, so VictoriaMetrics (1 month retention, no future) takes every timestamp.
      doc.setIn(['simulators', 'start'], new Date(dayStart() + 8 * 3_600_000).toISOString());
      doc.set('sinks', doc.createNode([{ id: 'vm', type: 'influxdb2', url, token: 't', org: 'fc', bucket: 'b', flush_interval: '200ms', start_from: 'earliest' }]));
    });
    const config = parseConfig(text, configFile, {});
    const { log } = memoryLog();
    gw = Gateway.create({ config, log, processMetrics: false, env: { FCGW_SITE_SECRET: 'test-secret-0123456789abcdef' } });
    await gw.start();
    // An hour or two of the community's day.
    // Polled devices are read on wall-clock periods (5 s and more): wait for the classes asserted
    // below to have been read at least once, not only for a count the fast MQTT devices reach.
    const classesIn = () => new Set((gw?.store.reads.latest() ?? []).map((r) => r.class));
    await waitFor(() => (gw?.store.maxSeq().samples ?? 0) > 2000 && (gw?.store.maxSeq().events ?? 0) > 20 && ['pv_inverter', 'battery', 'grid_meter', 'water_meter', 'parking_space', 'parcel_locker'].every((c) => classesIn().has(c)), 20_000);
    await new Promise((r) => setTimeout(r, 1_000));
    await gw.stop();
    gw = undefined;

    const store = Store.open({ path: config.store.path, site: config.site.id });
    const max = store.maxSeq();
    expect(store.getCursor('sink:vm')).toEqual(max);
    const expected = expectedFromStore(store);
    store.close();
    const classes = new Set([...expected.keys()].map((k) => DEVICE_CLASSES.find((c) => k.startsWith(`${c}_`))));
    // Energy over Modbus, transport and LoRaWAN over MQTT: samples and events of many classes.
    expect([...classes]).toEqual(expect.arrayContaining(['pv_inverter', 'battery', 'grid_meter', 'water_meter', 'parking_space', 'parcel_locker']));
    expect(max.events).toBeGreaterThan(20);

    await vm.flush();
    const exported = await vm.exportSeries(`{site="${config.site.id}"}`);
    const actual = new Map<string, SeriesStat>();
    for (const e of exported) {
      const key = `${e.metric['__name__']}|${e.metric['device']}`;
      if (!expected.has(key)) continue;
      const prev = actual.get(key) ?? { count: 0, sum: 0 };
      actual.set(key, { count: prev.count + e.values.length, sum: Math.round((prev.sum + e.values.reduce((a, b) => a + b, 0)) * 100) / 100 });
    }
    // Sums may differ only by float addition order (SQLite vs the server).
    const same = (a: SeriesStat | undefined, b: SeriesStat) => a !== undefined && a.count === b.count && Math.abs(a.sum - b.sum) <= 1e-9 * Math.abs(b.sum) + 0.011;
    const diff = [...expected].filter(([k, v]) => !same(actual.get(k), v));
    expect(diff.map(([k, v]) => `${k}: store ${JSON.stringify(v)} server ${JSON.stringify(actual.get(k))}`)).toEqual([]);
  }, 40_000);
});
