import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { createLogger } from '../../../gateway/runtime/log.js';
import { latest } from '../../../gateway/store/queries.js';
import { startMeterBus } from '../../../simulators/servers/meter-bus.js';
import { cleanupsAfterEach } from '../../helpers/cleanups.js';
import { tempDir, waitFor } from '../../helpers/peers.js';

/**
 * A DL/T 645 bus through a running gateway: good meters' values reach the store in catalog units
 * (kWh → Wh, kW → W, the sign of export kept); a meter whose answers carry a wrong check byte is
 * quarantined, and its broken frames are counted by reason in /metrics, per connection.
 */
const cleanup = cleanupsAfterEach();

describe('DL/T 645 meters through a running gateway', () => {
  it('stores good meters in catalog units and counts a noisy meter\'s bad frames in /metrics', async () => {
    const t = tempDir('fcgw-meters-gw-');
    cleanup(t.cleanup);
    const read = (i: number) => (di: string) => (di === '02030000' ? -1.5 * i : di === '00010000' ? 1000 + i : di === '00020000' ? 20 : undefined);
    const bus = await startMeterBus({ protocol: 'dlt645', meters: [1, 2, 3].map((i) => ({ address: `33010000000${i}`.padStart(12, '0'), edition: '2007' as const, read: read(i) })) }, { faults: { badChecksum: new Set(['330100000003']) } });
    cleanup(() => bus.close());
    const addr = (i: number) => `33010000000${i}`.padStart(12, '0');
    const config = parseConfig(
      `version: 1
site: { id: meters-gw }
store: { path: ${join(t.dir, 'gw.db')} }
api: { host: 127.0.0.1, port: 0 }
connections: [{ id: bus-e, protocol: dlt645, host: 127.0.0.1, port: ${bus.port}, timeout: 200ms, retries: 0 }]
devices:
${[1, 2, 3].map((i) => `  - { id: em-${i}, class: grid_meter, connection: bus-e, address: "${addr(i)}", profile: dlt645-meter, poll: 300ms }`).join('\n')}
`,
      'meters-gw.yaml',
      {},
    );
    const gw = Gateway.create({ config, log: createLogger({ level: 'silent' }), processMetrics: false, env: { FCGW_SITE_SECRET: 'm'.repeat(32) } });
    await gw.start();
    cleanup(() => gw.stop());
    const value = (d: string, m: string) => latest(gw.store, { device: d }).find((r) => r.metric === m);
    await waitFor(() => value('em-2', 'import_total') !== undefined && value('em-1', 'power') !== undefined, 10_000);
    expect(value('em-1', 'power')).toMatchObject({ value: -1500, quality: 'good' });
    expect(value('em-2', 'import_total')).toMatchObject({ value: 1_002_000, quality: 'good' });
    expect(value('em-2', 'export_total')).toMatchObject({ value: 20_000 });
    expect(value('em-3', 'power')).toBeUndefined();
    expect(gw.driverHealth().flatMap((h) => h.devices).find((d) => d.id === 'em-3')?.state).toBe('quarantined');
    const metrics = await (await fetch(`${gw.apiUrl}/metrics`)).text();
    const checksum = /fcgw_link_errors_total\{connection="bus-e",kind="checksum"\} (\d+)/.exec(metrics);
    expect(Number(checksum?.[1] ?? 0)).toBeGreaterThanOrEqual(1);
    expect(metrics).toMatch(/fcgw_link_errors_total\{connection="bus-e",kind="timeout"\} [1-9]/);
  }, 30_000);
});
