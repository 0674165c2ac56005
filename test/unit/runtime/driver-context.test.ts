import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../gateway/model/clock.js';
import { CounterState } from '../../../gateway/pipeline/counters.js';
import { Ingestor } from '../../../gateway/pipeline/ingest.js';
import { Dedupe } from '../../../gateway/pipeline/normalise.js';
import { Pseudonymiser } from '../../../gateway/pipeline/pseudonymise.js';
import { StalenessTracker } from '../../../gateway/pipeline/staleness.js';
import { DeviceRegistry } from '../../../gateway/runtime/devices.js';
import { driverContext } from '../../../gateway/runtime/driver-context.js';
import { GatewayMetrics } from '../../../gateway/runtime/metrics.js';
import { Store } from '../../../gateway/store/store.js';
import { tempDir } from '../../helpers/peers.js';

/** What a driver's context does with what the driver tells it. */
describe('driver context', () => {
  it('alive(): a device the link vouches for (an OPC UA keep-alive) is not stale, at the clock of that moment', () => {
    const dir = tempDir();
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const store = Store.open({ path: join(dir.dir, 'c.db'), site: 't', clock });
    try {
      const metrics = new GatewayMetrics({ defaults: false });
      const log = pino({ level: 'silent' });
      const staleness = new StalenessTracker(() => 60_000);
      const normalise = { site: 't', deviceClass: () => 'heat_pump', counters: new CounterState(), dedupe: new Dedupe(), pseudo: new Pseudonymiser(Buffer.alloc(32, 1)), now: () => clock.now() };
      const ingestor = new Ingestor({ store, metrics, log, maxRows: 100, queueMax: 1000, normalise });
      const ctx = driverContext({ connection: 'station', site: 't', clock, log, dataDir: dir.dir, ingestor, metrics, devices: new DeviceRegistry(store), staleness });

      staleness.seen('hp-1', clock.now());
      clock.advance(61_000);
      expect(staleness.sweep(clock.now())).toEqual(['hp-1']);
      ctx.alive?.(['hp-1']);
      expect(staleness.isStale('hp-1')).toBe(false);
      // The keep-alive counts from its own moment: quiet again only a full threshold later.
      clock.advance(59_000);
      expect(staleness.sweep(clock.now())).toEqual([]);
      clock.advance(2_000);
      expect(staleness.sweep(clock.now())).toEqual(['hp-1']);
    } finally {
      store.close();
      dir.cleanup();
    }
  });
});
