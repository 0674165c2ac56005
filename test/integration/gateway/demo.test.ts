import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../gateway/config/load.js';
import { metricDef } from '../../../gateway/model/catalog.js';
import { startGatewayProcess } from '../../helpers/gateway-process.js';
import { relocatedDemo } from '../../helpers/demo.js';
import { tempDir, waitFor } from '../../helpers/peers.js';


interface LatestRow {
  device: string;
  class: string;
  metric: string;
  ts: string;
  value: unknown;
  unit: string;
  quality: string;
}

/**
 * What a newcomer sees after `npm install && npm start`: the demo config, run as a real process
 * (on free ports and a temp store, so it cannot collide with a running demo).
 */
describe('the demo (npm start)', () => {
  it('within 30 s reports ok health, live samples of every demo device class with units and quality, and ingest counters', async () => {
    const { dir, cleanup } = tempDir();
    let gw: Awaited<ReturnType<typeof startGatewayProcess>> | undefined;
    try {
      const { configFile: cfgFile, text } = await relocatedDemo(dir);
      const config = parseConfig(text, cfgFile, {});
      const classes = [...new Set([...config.devices.map((d) => d.class), ...config.discover.map((r) => r.class)])].sort();
      expect(classes.length).toBeGreaterThan(0);

      const started = performance.now();
      gw = await startGatewayProcess(cfgFile);
      const api = gw.apiUrl;
      const latest = await waitFor(async () => {
        const rows = (await (await fetch(`${api}/api/latest`)).json()) as LatestRow[];
        const seen = new Set(rows.filter((r) => r.quality === 'good').map((r) => r.class));
        return classes.every((c) => seen.has(c)) ? rows : undefined;
      }, 30_000 - (performance.now() - started));

      for (const r of latest) {
        expect(metricDef(r.class, r.metric), `${r.class}.${r.metric}`).toBeDefined();
        expect(r.unit).toBe(metricDef(r.class, r.metric)?.unit);
        expect(['good', 'uncertain', 'bad']).toContain(r.quality);
      }
      const health = (await (await fetch(`${api}/api/health`)).json()) as { status: string };
      expect(health.status).toBe('ok');
      const metrics = await (await fetch(`${api}/metrics`)).text();
      const ingested = [...metrics.matchAll(/^fcgw_ingest_samples_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
      expect(ingested).toBeGreaterThan(0);

      gw.proc.kill('SIGTERM');
      expect((await gw.exited).code).toBe(0);
    } finally {
      if (gw && gw.proc.exitCode === null) gw.proc.kill('SIGKILL');
      cleanup();
    }
  }, 60_000);
});
