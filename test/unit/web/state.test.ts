import { describe, expect, it } from 'vitest';
import { LiveState, type Batch, type LiveRec } from '../../../gateway/web/state.js';

const T = Date.UTC(2026, 5, 1, 4, 0, 0);
const limits = { series: 5, devices: 4, events: 3, alerts: 2, flushMs: 500 };
const sample = (device: string, metric: string, ts: number, value: unknown, extra: Partial<LiveRec> = {}) =>
  JSON.stringify({ device, class: 'grid_meter', metric, ts: new Date(ts).toISOString(), value, quality: 'good', ...extra });

describe('LiveState (what the page keeps of the live stream)', () => {
  it('coalesces a series to its newest value until the next flush, then tells views once', () => {
    const s = new LiveState(limits);
    const seen: Batch[] = [];
    s.subscribe((b) => seen.push(b));
    s.onSample(sample('m1', 'power', T, 1));
    s.onSample(sample('m1', 'power', T + 1000, 2));
    s.onSample(sample('m1', 'import_total', T, 10));
    expect(s.latestOf('m1', 'power')).toBeUndefined();
    s.flush();
    expect(seen).toHaveLength(1);
    expect(seen[0]?.samples.map((r) => [r.metric, r.value])).toEqual([
      ['power', 2],
      ['import_total', 10],
    ]);
    expect(s.latestOf('m1', 'power')).toMatchObject({ value: 2, ts: T + 1000, quality: 'good' });
    expect(s.received.samples).toBe(3);
    s.flush();
    expect(seen).toHaveLength(1); // nothing new: no redraw
  });

  it('keeps the newer value when a late sample arrives out of order', () => {
    const s = new LiveState(limits);
    s.putSample({ device: 'm1', class: 'grid_meter', metric: 'power', ts: T + 5000, value: 5, quality: 'good' });
    s.putSample({ device: 'm1', class: 'grid_meter', metric: 'power', ts: T, value: 1, quality: 'good' });
    expect(s.latestOf('m1', 'power')?.value).toBe(5);
  });

  it('never holds more series, devices, events or alerts than its limits', () => {
    const s = new LiveState(limits);
    for (let i = 0; i < 20; i++) s.putSample({ device: `d${i}`, class: 'grid_meter', metric: 'power', ts: T + i, value: i, quality: 'good' });
    expect(s.latest.size).toBe(5);
    expect(s.latestOf('d19', 'power')?.value).toBe(19); // the oldest went first
    expect(s.devices.size).toBe(4);
    for (let i = 0; i < 10; i++) s.onEvent(JSON.stringify({ ts: new Date(T + i).toISOString(), device: 'door-1', class: 'access_door', type: 'access_granted', attributes: { method: 'card' } }));
    s.flush();
    expect(s.events.size).toBe(3);
    expect(s.events.newest(1)[0]?.ts).toBe(T + 9);
    for (let i = 0; i < 5; i++) s.putAlert({ id: i, ts: new Date(T + i).toISOString(), kpi: 'self_sufficiency', status: 'missed', active: i === 4 });
    expect(s.alerts.size).toBe(2);
    expect(s.activeAlerts()).toBe(1);
    s.putAlert({ id: 4, ts: new Date(T + 9).toISOString(), kpi: 'self_sufficiency', status: 'met', active: false });
    expect(s.alerts.size).toBe(2);
    expect(s.activeAlerts()).toBe(0);
  });

  it('ignores malformed messages and marks a silent device stale without re-stamping it', () => {
    const s = new LiveState(limits);
    s.onSample('{not json');
    s.onEvent('');
    s.putSample({ device: 'm1', class: 'grid_meter', metric: 'power', ts: T, value: 7, quality: 'good' });
    s.onStale(JSON.stringify({ device: 'm1', since: T }));
    expect(s.latestOf('m1', 'power')).toMatchObject({ value: 7, ts: T, quality: 'uncertain', reason: 'stale' });
    expect(s.devices.get('m1')?.status).toBe('stale');
    let told = 0;
    s.subscribe(() => (told += 1));
    s.flush();
    expect(told).toBe(1);
    s.putSample({ device: 'm1', class: 'grid_meter', metric: 'power', ts: T + 1, value: 8, quality: 'good' });
    expect(s.devices.get('m1')?.status).toBe('online');
  });

  it('takes "now" from the devices, so one device with a wrong clock cannot move it', () => {
    const s = new LiveState({ ...limits, devices: 10, series: 10 });
    const put = (d: string, ts: number) => s.onSample(sample(d, 'power', ts, 1));
    put('a', T);
    put('b', T + 1000);
    put('c', T + 2000);
    put('liar', T + 400 * 86_400_000);
    s.flush();
    expect(s.now()).toBe(T + 1000);
    put('a', T + 5000);
    put('b', T + 6000);
    s.flush();
    expect(s.now()).toBe(T + 5000);
  });
});
