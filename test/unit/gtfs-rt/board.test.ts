import { describe, expect, it } from 'vitest';
import { boardAt, type Departure } from '../../../drivers/gtfs-rt/board.js';
import type { AlertRealtime } from '../../../drivers/gtfs-rt/feed.js';

const MIN = 60_000;
const now = Date.parse('2024-03-04T08:00:00+08:00');
const dep = (trip: string, inMin: number, o: Partial<Departure> = {}): Departure => ({ key: trip, trip, route: 'R', routeName: 'R', stop: 'S', serviceDate: '20240304', scheduled: now + inMin * MIN, time: now + inMin * MIN, status: 'scheduled', ...o });
const stop = { stops: ['S'], routes: [] };
const board = (list: Departure[], alerts: AlertRealtime[] = []) => boardAt(list, alerts, stop, new Set(['R']), now, { delayedAfter: 5 * MIN });

describe('a stop board', () => {
  it('is normal, delayed from the configured delay on, and without departures no_service', () => {
    expect(board([dep('a', 3), dep('b', 13)])).toMatchObject({ status: 'normal', next: { trip: 'a' }, following: { trip: 'b' } });
    expect(board([dep('a', 3, { delay: 299, time: now + 3 * MIN + 299_000 })]).status).toBe('normal');
    expect(board([dep('a', 3, { delay: 300, time: now + 8 * MIN })]).status).toBe('delayed');
    expect(board([dep('gone', -5)]).status).toBe('no_service');
  });

  it('is disrupted by a cancellation before the next departure that runs, not by one after it', () => {
    expect(board([dep('x', 2, { status: 'cancelled' }), dep('a', 12)]).status).toBe('disrupted');
    expect(board([dep('a', 2), dep('x', 12, { status: 'cancelled' })]).status).toBe('normal');
    expect(board([dep('x', 2, { status: 'skipped' }), dep('a', 12)]).next?.trip).toBe('a');
  });

  it('is disrupted by an active alert on its stop or line, not by one that ended or is elsewhere', () => {
    const alert = (o: Partial<AlertRealtime>): AlertRealtime => ({ id: 'al', effect: 'DETOUR', cause: 'CONSTRUCTION', header: 'h', routes: [], stops: [], periods: [], ...o });
    expect(board([dep('a', 3)], [alert({ stops: ['S'] })]).status).toBe('disrupted');
    expect(board([dep('a', 3)], [alert({ routes: ['R'] })]).status).toBe('disrupted');
    expect(board([dep('a', 3)], [alert({ routes: ['R'], periods: [{ end: now - MIN }] })]).status).toBe('normal');
    expect(board([dep('a', 3)], [alert({ stops: ['OTHER'], routes: ['Q'] })]).status).toBe('normal');
  });
});
