import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sample } from '../../../gateway/model/types.js';
import { Store } from '../../../gateway/store/store.js';
import { tempDir, waitFor } from '../../helpers/peers.js';
import { INFLUXD, startInfluxdb1, startVictoriaMetrics, VICTORIA_METRICS, type Influxdb1, type VictoriaMetrics } from '../../helpers/servers.js';
import { configWith, dayStart, drained, memoryLog, startSinks } from './fixtures.js';

/**
 * Names and strings that need escaping, written by the sinks and read back from both real
 * servers: what goes in comes out (a line break as the two characters `\n`, a backslash that has
 * no portable spelling as `/`), and no point is refused.
 */
describe.skipIf(!INFLUXD || !VICTORIA_METRICS)('line protocol escaping against InfluxDB 1.x and VictoriaMetrics', () => {
  const tmp = tempDir('fcgw-sink-esc-');
  let ix: Influxdb1;
  let vm: VictoriaMetrics;
  beforeAll(async () => {
    [ix, vm] = await Promise.all([startInfluxdb1(tmp.dir), startVictoriaMetrics(tmp.dir)]);
    await ix.createDatabase('esc');
  });
  afterAll(async () => {
    await Promise.all([ix?.stop(), vm?.stop()]);
    tmp.cleanup();
  });

  const device = 'meter 1,east=a';
  const tags = { building: 'B 2, "north"', 'room no': '3=4', path: 'C:\\meters\\', mid: 'a\\b' };
  const readBack = { building: 'B 2, "north"', 'room no': '3=4', path: 'C:\\meters/', mid: 'a\\b' };

  it('tags, device ids and string values survive the trip to both servers', async () => {
    const store = Store.open({ path: join(tmp.dir, 'esc.db'), site: 'esc-site' });
    store.upsertDevice({ id: device, class: 'heat_pump', connection: 'c', profile: 'p', tags, discovered: false });
    const ts = dayStart() + 3_600_000;
    const s = (metric: string, value: Sample['value'], over: Partial<Sample> = {}): Sample => ({ site: 'esc-site', device, class: 'heat_pump', metric, ts, value, quality: 'good', ...over });
    store.write([s('supply_temp', 45.5), s('mode', 'say "hi" \\ now\nnext', { quality: 'uncertain', reason: 'odd, "reason"' })]);

    const { log } = memoryLog();
    const { sinks } = startSinks(
      configWith('esc-site', [
        { id: 'ix', type: 'influxdb1', url: ix.url, database: 'esc', flush_interval: '20ms', start_from: 'earliest' },
        { id: 'vm', type: 'influxdb2', url: vm.url, token: 't', org: 'fc', bucket: 'b', flush_interval: '20ms', start_from: 'earliest' },
      ]),
      store,
      log,
    );
    await sinks.start();
    await waitFor(() => drained(store, 'sink:ix') && drained(store, 'sink:vm'), 10_000);
    expect(sinks.health().map((h) => h.deadLetters)).toEqual([0, 0]);
    await sinks.stop();

    const rows = await ix.query('esc', `SELECT * FROM "heat_pump" WHERE site = 'esc-site'`);
    const table = rows[0];
    const col = (name: string) => table?.columns.indexOf(name) ?? -1;
    const byField = table?.values.map((v) => Object.fromEntries((table.columns).map((c, i) => [c, v[i]]))) ?? [];
    expect(col('room no')).toBeGreaterThan(0);
    expect(byField).toHaveLength(1);
    expect(byField[0]).toMatchObject({ ...readBack, device, site: 'esc-site', supply_temp: 45.5, mode: 'say "hi" \\ now\\nnext', quality: 'uncertain', quality_reason: 'odd, "reason"' });

    await vm.flush();
    const series = await vm.exportSeries('{__name__="heat_pump_supply_temp"}');
    expect(series.map((x) => x.metric)).toEqual([{ __name__: 'heat_pump_supply_temp', ...readBack, device, site: 'esc-site' }]);
    expect(series[0]?.values).toEqual([45.5]);
    store.close();
  });
});
