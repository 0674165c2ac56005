import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../gateway/model/clock.js';
import { WATER_WH_PER_M3K } from '../../../simulators/models/heat-pump.js';
import { StationGroup, StationModel, stationSchema } from '../../../simulators/opcua/index.js';
import { stationRaw } from '../../integration/opcua/harness.js';

const HOUR = 3_600_000;
const START = Date.UTC(2024, 0, 14, 16); // local midnight in Shanghai, mid-January
const raw = (over: Record<string, unknown> = {}) => stationRaw(1, over);
const scenario = (over: Record<string, unknown> = {}) => stationSchema.parse(raw(over));
const opts = { start: START, seed: 3, latitude: 30.27, longitude: 120.15 };

describe('energy station model', () => {
  it('is the same whether it is advanced in one go or in ragged steps (grid-aligned integration)', () => {
    const a = new StationModel(scenario(), opts);
    const b = new StationModel(scenario(), opts);
    a.advance(START + 24 * HOUR);
    let t = START;
    let k = 1;
    while (t < START + 24 * HOUR) {
      t = Math.min(START + 24 * HOUR, t + 7_777 * k);
      k = (k % 13) + 1;
      b.advance(t);
    }
    expect(b.totals()).toEqual(a.totals());
    expect([...b.marks.keys()]).toEqual([...a.marks.keys()]);
  });

  it('balances: the electricity meter is the pumps plus auxiliaries, the tank keeps what came in and did not go out', () => {
    const s = scenario();
    const m = new StationModel(s, opts);
    const mean0 = m.tank.meanC;
    m.advance(START + 24 * HOUR);
    const t = m.totals();
    const pumps = Object.values(t.pumps);
    expect(t.electricity_wh).toBeCloseTo(pumps.reduce((a, p) => a + p.electric_wh, 0) + s.aux_kw * 1000 * 24, 3);
    const stored = WATER_WH_PER_M3K * s.tank.volume_m3 * (m.tank.meanC - mean0);
    expect(m.tank.heatInWh - m.tank.heatOutWh - m.tank.lossWh).toBeCloseTo(stored, 3);
    expect(t.heat_wh).toBeCloseTo(m.tank.heatOutWh, 6);
    // A January day: the station heats, at an air-to-water SPF.
    const spf = pumps.reduce((a, p) => a + p.thermal_wh, 0) / pumps.reduce((a, p) => a + p.electric_wh, 0);
    expect(spf).toBeGreaterThan(2);
    expect(spf).toBeLessThan(5);
    expect(m.marks.get(START + 24 * HOUR)).toEqual(t);
  });

  it('faults: sensor failure on named metrics, communication loss first Uncertain then Bad, over at the end', () => {
    const clock = new ManualClock(START);
    const g = new StationGroup(scenario({ faults: [{ device: 'hp-2', kind: 'comm_loss', at: '1h', duration: '2h', bad_after: '10m' }] }), clock, { seed: 1, latitude: 30, longitude: 120, speed: 1 });
    expect(g.statusAt('hp-2', 'thermal_total', START + 30 * 60_000)).toBe('Good');
    expect(g.statusAt('hp-2', 'thermal_total', START + HOUR + 60_000)).toBe('UncertainLastUsableValue');
    expect(g.statusAt('hp-2', 'thermal_total', START + HOUR + 11 * 60_000)).toBe('BadNoCommunication');
    expect(g.statusAt('hp-2', 'thermal_total', START + 3 * HOUR)).toBe('Good');
    g.inject({ device: 'tank', kind: 'sensor_failure', metrics: ['top_temp'] });
    expect(g.statusAt('tank', 'top_temp', START + 60_000)).toBe('BadSensorFailure');
    expect(g.statusAt('tank', 'bottom_temp', START + 60_000)).toBe('Good');
    g.clearFaults();
    expect(g.statusAt('tank', 'top_temp', START + 60_000)).toBe('Good');
  });

  it('refuses a step that does not divide an hour', () => {
    expect(stationSchema.safeParse(raw({ step: '7s' })).success).toBe(false);
    expect(stationSchema.safeParse(raw({ step: '10s', record_every: '15s' })).success).toBe(false);
    expect(stationSchema.safeParse(raw({ step: '10s', record_every: '1m' })).success).toBe(true);
  });
});
