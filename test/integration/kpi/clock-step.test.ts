import { afterEach, describe, expect, it, vi } from 'vitest';
import { createKpiEngine, type KpiEngine } from '../../../gateway/kpi/index.js';
import { ManualClock } from '../../../gateway/model/clock.js';
import { Fixture, HOUR, MARCH_1, silentLog, testConfig } from './fixtures.js';

/**
 * A box without a battery clock boots at a wrong time and NTP steps it. The engine's schedule
 * follows the injected clock: a step back of hours must not leave the KPIs unjudged for hours.
 */
let fx: Fixture | undefined;
let engine: KpiEngine | undefined;
afterEach(() => {
  engine?.stop();
  fx?.close();
});

describe('the KPI engine across a clock step', () => {
  it('judges again on its next tick after the clock steps back two hours; not before its period otherwise', async () => {
    fx = new Fixture([{ id: 'grid-main', class: 'grid_meter', tags: { role: 'master' } }]);
    const clock = new ManualClock(MARCH_1 + 10 * HOUR);
    const cfg = testConfig({ kpi: { evaluate_every: '1m' } });
    engine = createKpiEngine({ config: cfg, store: fx.store, clock, log: silentLog });
    const evaluate = vi.spyOn(engine, 'evaluate');
    engine.start();
    expect(evaluate).toHaveBeenCalledTimes(1);
    // The period is a minute of the injected clock: a second later nothing is due.
    clock.set(MARCH_1 + 10 * HOUR + 1000);
    await new Promise((r) => setTimeout(r, 1300));
    expect(evaluate).toHaveBeenCalledTimes(1);
    // Stepped back two hours: due at the next tick (at most a second), not at 10:01.
    clock.set(MARCH_1 + 8 * HOUR);
    await new Promise((r) => setTimeout(r, 1300));
    expect(evaluate).toHaveBeenCalledTimes(2);
  });
});
