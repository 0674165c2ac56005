import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKpiEngine, type KpiEngine } from '../../../gateway/kpi/index.js';
import { KpiNorthbound } from '../../../gateway/kpi/northbound.js';
import { KpiOutbox, type KpiPoint, type NorthboundRecord } from '../../../gateway/kpi/outbox.js';
import { ManualClock } from '../../../gateway/model/clock.js';
import { kpiLine, kpiMessage } from '../../../gateway/sinks/kpi-encode.js';
import { counterReadings, Fixture, HOUR, MARCH_1, MIN, silentLog, testConfig } from './fixtures.js';

/**
 * The KPI northbound producer (#17) over a real store and the real KPI engine: closed windows
 * once, `closed_after` their end, and never twice across a restart (the ones that closed while the
 * gateway was down are sent when it is back); running windows every `running_every`; the site's
 * identity at start, on change and every `identity_every`; and the records' wire forms.
 */
describe('KPI northbound', () => {
  let fx: Fixture;
  let clock: ManualClock;
  let engine: KpiEngine;
  const config = testConfig({
    site: { id: 'lianhua', name: '莲花', district: 'xihu', residents: 200, households: 80 },
    devices: [{ id: 'pv-1', class: 'pv_inverter', connection: 'c', profile: 'p' }],
    targets: [{ kpi: 'pv_generation', window: 'hour', min: 1000 }],
    kpi: { northbound: { windows: ['hour'], running_every: '5m', closed_after: '2m', identity_every: '1d' } },
  });
  const open = (cfg = config, startedAt = MARCH_1) => {
    const outbox = new KpiOutbox(fx.store);
    engine = createKpiEngine({ config: cfg, store: fx.store, clock, log: silentLog });
    return { outbox, nb: new KpiNorthbound({ config: () => cfg, engine: () => engine, outbox, clock, log: silentLog, startedAt }) };
  };
  const kinds = (rs: NorthboundRecord[]) => rs.map((r) => (r.kind === 'kpi' ? `${r.kind}:${r.closed ? 'closed' : 'running'}` : r.kind));
  const pv = (rs: NorthboundRecord[], closed: boolean) => rs.find((r): r is KpiPoint => r.kind === 'kpi' && r.kpi === 'pv_generation' && r.closed === closed);

  beforeEach(() => {
    fx = new Fixture([{ id: 'pv-1', class: 'pv_inverter' }]);
    clock = new ManualClock(MARCH_1 + 10 * MIN);
    // 50 kW for three hours: 50,000 Wh an hour.
    fx.write(counterReadings('pv-1', 'energy_total', () => 50_000, MARCH_1, MARCH_1 + 3 * HOUR));
  });
  afterEach(() => fx.close());

  it('sends running windows at their rate and each closed window once, closed_after its end', () => {
    const { nb } = open();
    const first = nb.tick();
    expect(kinds(first).filter((k) => k !== 'kpi:running')).toEqual(['site']);
    expect(pv(first, false)?.ts).toBe(MARCH_1 + 10 * MIN);
    clock.advance(MIN);
    expect(nb.tick()).toEqual([]);
    clock.set(MARCH_1 + HOUR + MIN); // the hour ended a minute ago: not yet final
    expect(kinds(nb.tick()).every((k) => k === 'kpi:running')).toBe(true);
    clock.set(MARCH_1 + HOUR + 2 * MIN);
    const closing = nb.tick();
    const closed = pv(closing, true);
    expect(closed).toMatchObject({ start: MARCH_1, end: MARCH_1 + HOUR, ts: MARCH_1 + HOUR - 1, status: 'met', target_min: 1000 });
    expect(closed?.value).toBeCloseTo(50_000, 6);
    // The value equals what /api/kpis says of that hour.
    expect(engine.kpis('hour', MARCH_1).find((r) => r.kpi === 'pv_generation')?.value).toBe(closed?.value);
    clock.advance(MIN);
    expect(kinds(nb.tick())).not.toContain('kpi:closed');
  });

  it('between due times a pass does no work (the outbox is not read), and the next due record still comes on time', () => {
    const { nb, outbox } = open();
    nb.tick();
    let reads = 0;
    const meta = outbox.meta.bind(outbox);
    outbox.meta = (key: string) => {
      reads++;
      return meta(key);
    };
    for (let m = 11; m < 15; m++) {
      clock.set(MARCH_1 + m * MIN);
      expect(nb.tick()).toEqual([]);
    }
    expect(reads).toBe(0);
    clock.set(MARCH_1 + 15 * MIN); // running_every (5 min) after the first pass
    expect(pv(nb.tick(), false)?.ts).toBe(MARCH_1 + 15 * MIN);
    expect(reads).toBeGreaterThan(0);
    // A clock set back is followed at once.
    clock.set(MARCH_1 + 5 * MIN);
    expect(pv(nb.tick(), false)?.ts).toBe(MARCH_1 + 5 * MIN);
  });

  it('a restart neither resends a closed window nor loses one that closed while it was down', () => {
    const a = open();
    a.nb.tick();
    clock.set(MARCH_1 + HOUR + 3 * MIN);
    expect(pv(a.nb.tick(), true)?.start).toBe(MARCH_1);
    a.nb.stop();
    // Down across two hour ends.
    clock.set(MARCH_1 + 3 * HOUR + 5 * MIN);
    const b = open();
    const back = b.nb.tick();
    expect(back.filter((r) => r.kind === 'kpi' && r.closed && r.kpi === 'pv_generation').map((r) => (r as KpiPoint).start)).toEqual([MARCH_1 + HOUR, MARCH_1 + 2 * HOUR]);
    expect(back.some((r) => r.kind === 'site')).toBe(false);
  });

  it('a first start sends the window it started in when it closes, even if its first pass comes later', () => {
    clock.set(MARCH_1 + HOUR + 30 * MIN);
    const { nb } = open(config, MARCH_1 + 50 * MIN);
    expect(pv(nb.tick(), true)?.start).toBe(MARCH_1);
  });

  it('sends the site identity once, on change, and every identity_every', () => {
    const { nb, outbox } = open();
    expect(nb.tick().filter((r) => r.kind === 'site')).toEqual([
      { kind: 'site', site: 'lianhua', ts: MARCH_1 + 10 * MIN, name: '莲花', district: 'xihu', residents: 200, households: 80, latitude: 30.27, longitude: 120.15, timezone: 'Asia/Shanghai' },
    ]);
    clock.advance(HOUR);
    expect(nb.tick().some((r) => r.kind === 'site')).toBe(false);
    const moved = { ...config, site: { ...config.site, residents: 250 } };
    const nb2 = new KpiNorthbound({ config: () => moved, engine: () => engine, outbox, clock, log: silentLog, startedAt: MARCH_1 });
    expect(nb2.tick().find((r) => r.kind === 'site')).toMatchObject({ residents: 250 });
    clock.advance(24 * HOUR);
    expect(nb2.tick().some((r) => r.kind === 'site')).toBe(true);
  });

  it('writes line protocol and retained MQTT messages with fixed timestamps', () => {
    const { nb } = open();
    nb.tick();
    clock.set(MARCH_1 + HOUR + 2 * MIN);
    const closed = pv(nb.tick(), true) as KpiPoint;
    const line = kpiLine(closed);
    expect(line).toBe(
      `kpi,kpi=pv_generation,scope=site,site=lianhua,window=hour value=${closed.value},coverage=${closed.coverage},closed=1,window_start=${MARCH_1},window_end=${MARCH_1 + HOUR},status_code=1,target_min=1000,status="met" ${MARCH_1 + HOUR - 1}`,
    );
    expect(kpiLine(closed)).toBe(line);
    const m = kpiMessage('fc/lianhua', closed);
    expect(m.topic).toBe('fc/lianhua/kpi/pv_generation/hour/site/closed');
    expect(m.retain).toBe(true);
    expect(JSON.parse(m.payload)).toMatchObject({ kpi: 'pv_generation', window: 'hour', scope: 'site', closed: true, status: 'met', start: MARCH_1 });
    // A tag scope with a topic wildcard or separator stays one topic level.
    expect(kpiMessage('fc/x', { ...closed, scope: 'building=a/b+#' }).topic).toBe('fc/x/kpi/pv_generation/hour/building=a_b__/closed');
    expect(kpiLine({ kind: 'site', site: 'x', ts: 5, name: 'A b', district: '西湖', latitude: 30, longitude: 120, timezone: 'Asia/Shanghai', residents: 3 })).toBe(
      'site,district=西湖,name=A\\ b,site=x info=1,residents=3,latitude=30,longitude=120 5',
    );
  });
});
