import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LiveMessage } from '../../../gateway/api/live.js';
import { Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { AcceleratedClock } from '../../../gateway/model/clock.js';
import { createLogger } from '../../../gateway/runtime/log.js';
import { latest } from '../../../gateway/store/queries.js';
import { waterMeterServer } from '../modbus/harness.js';
import { cleanupsAfterEach } from '../../helpers/cleanups.js';
import { tempDir, waitFor } from '../../helpers/peers.js';

/**
 * Polls run on wall-clock timers; under an accelerated clock (the demo, the soak) the time
 * between two polls is `speed` times longer in clock time. A polled device must not be called
 * quiet between polls: at 600× a 1.5 s poll is 15 clock minutes, longer than the 5-minute
 * default, and the soak logged 26,000 false "device went quiet" lines before this was fixed.
 */
const cleanup = cleanupsAfterEach();

describe('staleness under an accelerated clock', () => {
  it('a device answering every poll stays fresh; one that stops answering goes stale', async () => {
    const t = tempDir('fcgw-stale-');
    cleanup(t.cleanup);
    const server = await waterMeterServer(0.01, 10);
    cleanup(() => server.stop());
    const config = parseConfig(
      `version: 1
site: { id: stale }
store: { path: ${join(t.dir, 'gw.db')} }
api: { host: 127.0.0.1, port: 0 }
connections: [{ id: plant, protocol: modbus-tcp, host: 127.0.0.1, port: ${server.port}, timeout: 300ms, retries: 0 }]
devices: [{ id: wm-1, class: water_meter, connection: plant, profile: modbus-water-meter, unit: 1, poll: 1500ms }]
`,
      'stale.yaml',
      {},
    );
    const gw = Gateway.create({ config, clock: new AcceleratedClock(Date.now(), 600), log: createLogger({ level: 'silent' }), processMetrics: false, env: { FCGW_SITE_SECRET: 's'.repeat(32) } });
    await gw.start();
    cleanup(() => gw.stop());
    const stale: LiveMessage[] = [];
    gw.live.subscribe({ filter: (m) => m.kind === 'stale', send: (m) => stale.push(m) > 0, close: () => undefined });

    // Four polls and two staleness sweeps (every 2 s): never stale.
    await new Promise((r) => setTimeout(r, 5_000));
    expect(stale).toEqual([]);
    expect(gw.deviceViews()[0]?.status).toBe('online');
    expect(latest(gw.store).find((r) => r.metric === 'volume_total')?.quality).toBe('good');

    // It stops answering (the server goes away): after three poll periods it is stale.
    await server.stop();
    await waitFor(() => stale.length > 0, 10_000);
    expect(stale.map((m) => (m.data as { device: string }).device)).toEqual(['wm-1']);
    expect(latest(gw.store).find((r) => r.metric === 'volume_total')).toMatchObject({ quality: 'uncertain', reason: 'stale' });
  }, 30_000);
});
