import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { DriverHealth } from '../../../drivers/core/driver.js';
import { Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { AcceleratedClock } from '../../../gateway/model/clock.js';
import { createLogger } from '../../../gateway/runtime/log.js';
import { FAULT_KINDS } from '../../../simulators/transport/faults.js';
import type { PublishingGroup } from '../../../simulators/transport/group.js';
import { transportGroups, transportSchema } from '../../../simulators/transport/index.js';
import { freePort, tempDir, waitFor } from '../../helpers/peers.js';

/**
 * Bad input, end to end: the transport simulators inject every kind of fault into the real
 * gateway (embedded broker, demo discovery rules). Each fault is refused with its own reason,
 * counted in /metrics and logged, rate-limited; every good message is still committed. (That
 * good ingest keeps its rate while faults arrive is measured in test/bench/mqtt.ts.)
 */
describe('MQTT bad input in the gateway', () => {
  it('refuses every injected fault with its reason in /metrics and a rate-limited log, and commits every good message', async () => {
    const t = tempDir('fcgw-mqtt-bad-');
    const port = await freePort();
    const rules = (parseYaml(readFileSync('config/demo.yaml', 'utf8')) as { discover: { connection: string }[] }).discover.filter((r) => r.connection === 'community-mqtt');
    const config = parseConfig(
      `version: 1
site: { id: bad-input }
store: { path: ${join(t.dir, 'gw.db')} }
broker: { embedded: { host: 127.0.0.1, port: ${port} } }
api: { host: 127.0.0.1, port: 0 }
logging: { level: warn }
connections: [{ id: community-mqtt, protocol: mqtt, url: embedded }]
discover: ${JSON.stringify(rules)}
`,
      'test.yaml',
      {},
    );
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _e, cb) {
        for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    });
    const gw = Gateway.create({ config, log: createLogger({ level: 'warn', destination }), processMetrics: false, env: { FCGW_SITE_SECRET: 'k'.repeat(32) } });
    await gw.start();
    let groups: PublishingGroup[] = [];
    try {
      const scenario = transportSchema.parse({
        parking: { spaces: 40, chargers: 8, heartbeat: '20m' },
        lockers: { banks: 2, compartments: 30, parcels_per_day: 400 },
        garage: { spaces: 30, lifts: 2 },
        doors: 4,
        water: { potable: 4, reclaimed: 2, rainwater: 2 },
        faults: { malformed_json: 0.04, wrong_type: 0.04, missing_field: 0.04, duplicate: 0.04, bad_timestamp: 0.04, oversize: 0.02 },
        tick: '100ms',
      });
      // 1 s = 1 simulated hour from 06:00: the morning rush and the first parcel wave.
      const clock = new AcceleratedClock(Date.parse('2024-11-22T06:00:00+08:00'), 3600);
      groups = transportGroups(scenario, { clock, speed: 3600, seed: 11, log: pino({ level: 'silent' }), site: 'bad-input', latitude: 30.27, longitude: 120.15, timezone: 'Asia/Shanghai', mqttUrl: `mqtt://127.0.0.1:${port}` });
      for (const g of groups) await g.start();
      await new Promise((r) => setTimeout(r, 3_000));
      await Promise.all(groups.map((g) => g.drain(10_000)));
      for (const g of groups) await g.stop();

      const truth = groups.map((g) => g.groundTruth() as { messages: { good: number; published: number; acked: number }; faults: Record<string, number> });
      const injected: Record<string, number> = {};
      for (const tr of truth) for (const [k, v] of Object.entries(tr.faults)) injected[k] = (injected[k] ?? 0) + v;
      const good = truth.reduce((n, tr) => n + tr.messages.good, 0);
      const published = truth.reduce((n, tr) => n + tr.messages.published, 0);
      for (const tr of truth) expect(tr.messages.acked).toBe(tr.messages.published);

      // Inside the embedded broker a PUBACK follows the commit (or the refusal): all is counted now.
      const health = (gw.health().drivers as DriverHealth[]).find((d) => d.connection === 'community-mqtt');
      const api = gw.api as NonNullable<Gateway['api']>;
      const text = (await api.inject({ method: 'GET', url: '/metrics' })).body;
      const counted: Record<string, number> = {};
      for (const m of text.matchAll(/^fcgw_ingest_rejections_total\{reason="([^"]+)"\} (\d+)$/gm)) counted[m[1] as string] = Number(m[2]);
      // A copy is not bad input: it is counted with the duplicates (kind message), not as a rejection.
      const duplicates = Number(/^fcgw_ingest_duplicates_total\{kind="message"\} (\d+)$/m.exec(text)?.[1] ?? 0);
      expect(counted['duplicate']).toBeUndefined();
      counted['duplicate'] = duplicates;
      const why = JSON.stringify({ injected, counted, counters: health?.counters });
      expect(health?.counters?.['messages']).toBe(published);
      expect(health?.counters?.['accepted'], why).toBe(good);

      for (const kind of FAULT_KINDS) expect(injected[kind], `${kind} injected`).toBeGreaterThan(3);
      // Every fault has a reason of its own, one for one, except a removed field that was the one
      // saying what the message is (an access controller's desc): then nothing maps, no_match.
      for (const kind of ['malformed_json', 'wrong_type', 'duplicate', 'bad_timestamp', 'oversize']) expect(counted[kind], why).toBe(injected[kind]);
      expect((counted['missing_field'] ?? 0) + (counted['no_match'] ?? 0), why).toBe(injected['missing_field']);
      expect(counted['missing_field'], why).toBeGreaterThan(0);
      for (const reason of Object.keys(counted)) expect([...FAULT_KINDS, 'no_match'], why).toContain(reason);
      const all = Object.values(counted).reduce((a, b) => a + b, 0);
      expect(all, why).toBe(FAULT_KINDS.reduce((n, k) => n + (injected[k] ?? 0), 0));

      // Logged with device, reason and topic, never flooding: at most 20 lines a minute per reason.
      // (A duplicate is logged at debug level only: copies are normal on an at-least-once path.)
      for (const reason of Object.keys(counted).filter((r) => r !== 'duplicate')) {
        const logged = lines.filter((l) => l['reason'] === reason);
        expect(logged.length, `${reason} log lines`).toBeGreaterThan(0);
        expect(logged.length, `${reason} log lines`).toBeLessThanOrEqual(Math.min(20, counted[reason] ?? 0));
        expect(String(logged[0]?.['msg'])).toMatch(/^[a-z]+\/\S+: /);
      }
      // Still running, still taking good input.
      await waitFor(() => gw.health().status === 'ok', 5_000);
      expect(gw.store.counts().samples + gw.store.counts().events).toBeGreaterThanOrEqual(good);
    } finally {
      for (const g of groups) await g.stop();
      await gw.stop();
      t.cleanup();
    }
  }, 30_000);
});
