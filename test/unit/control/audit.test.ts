import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { LiveHub } from '../../../gateway/api/live.js';
import { ControlService } from '../../../gateway/control/service.js';
import { ManualClock } from '../../../gateway/model/clock.js';
import { Store } from '../../../gateway/store/store.js';
import { tempDir } from '../../helpers/peers.js';

/**
 * The audit table lives in the store file (owned by the control module) and outlives the data it
 * concerns: rows go only once they are older than the longest retention of samples, rollups and
 * events. A row left pending by a crash is closed as failed at the next start, and said to the sinks.
 */
const t = tempDir('fcgw-audit-');
afterAll(() => t.cleanup());
const DAY = 86_400_000;

describe('the audit log in the store', () => {
  it('keeps rows as long as the longest retention; closes pending rows as failed, with an event', () => {
    const clock = new ManualClock(1000 * DAY);
    const store = Store.open({ path: join(t.dir, 'a.db'), site: 's', clock });
    const events: { type: string; attributes: Record<string, unknown> }[] = [];
    const control = () =>
      new ControlService({
        control: () => ({ dry_run: false, rate_per_minute: 6, interlocks: [], surplus: {} as never }),
        retentionMs: () => Math.max(30 * DAY, 400 * DAY, 90 * DAY),
        device: () => undefined,
        driver: () => undefined,
        driverHealth: () => [],
        store,
        live: new LiveHub(),
        clock,
        log: pino({ level: 'silent' }),
        emit: (e) => events.push(e),
      });
    const c = control();
    const row = (ts: number, status: 'succeeded' | 'pending') =>
      c.audit.insert({ ts, device: 'hp-1', command: 'sg_ready', value: '"normal"', caller: 'ops', origin: 'api', why: null, idempotency_key: null, request_hash: null, dry_run: 0, status, code: null, reason: null, read_back: null, finished_ts: null });
    const old = row(1000 * DAY - 401 * DAY, 'succeeded'); // older than every retention
    const kept = row(1000 * DAY - 399 * DAY, 'succeeded'); // raw samples are gone, rollups are not
    const cut = row(1000 * DAY - 1000, 'pending');
    c.start();
    c.stop();
    expect(c.audit.get(old)).toBeUndefined();
    expect(c.audit.get(kept)?.status).toBe('succeeded');
    expect(c.audit.get(cut)).toMatchObject({ status: 'failed', code: 'INTERRUPTED' });
    expect(events).toEqual([expect.objectContaining({ type: 'command', attributes: expect.objectContaining({ id: cut, status: 'failed', code: 'INTERRUPTED' }) })]);
    store.close();
    // Reopened: the rows are in the file.
    const again = Store.open({ path: join(t.dir, 'a.db'), site: 's', clock });
    const c2 = new ControlService({ control: () => ({}) as never, retentionMs: () => 400 * DAY, store: again, clock, log: pino({ level: 'silent' }), live: new LiveHub(), device: () => undefined, driver: () => undefined, driverHealth: () => [], emit: () => undefined });
    expect(c2.audit.list({}).map((r) => r.id)).toEqual([cut, kept]);
    again.close();
  });
});
