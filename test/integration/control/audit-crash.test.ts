import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { startGatewayProcess, type RunningGateway } from '../../helpers/gateway-process.js';
import { killAndWait, tempDir, waitFor } from '../../helpers/peers.js';
import { ADMIN, controlSite } from './site.js';

/**
 * The audit log survives a kill -9 of a real gateway process, and reaches a sink: command
 * outcomes are events the northbound MQTT sink publishes (fc/{site}/events/command). A command
 * still waiting for its read-back when the process dies is closed as failed (INTERRUPTED) at the
 * next start, and that outcome reaches the sink too.
 */

const t = tempDir('fcgw-control-crash-');
const running: RunningGateway[] = [];
afterAll(async () => {
  for (const g of running) if (g.proc.exitCode === null && g.proc.signalCode === null) await killAndWait(g.proc, 'SIGKILL');
  t.cleanup();
});

const post = (base: string, device: string, body: unknown) =>
  fetch(`${base}/api/devices/${device}/commands`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` }, body: JSON.stringify(body) });

describe('the audit log across a kill -9', () => {
  it('keeps a finished command, closes an interrupted one as failed, and both reach the mqtt sink', async () => {
    const site = await controlSite(t.dir, {
      // gate-west is configured but no such gate answers: its command waits for the read-back.
      devices: '  - { id: gate-west, class: parking_garage, connection: community-mqtt, profile: barrier-gate, options: { gate: west } }\n',
      extra: 'sinks:\n  - { type: mqtt, connection: community-mqtt }\n',
    });
    const seen: Record<string, unknown>[] = [];
    const sub = mqtt.connect(`mqtt://127.0.0.1:${site.mqtt}`, { clientId: 'audit-watch', reconnectPeriod: 200 });
    sub.on('connect', () => sub.subscribe('fc/ctl/events/command', { qos: 1 }));
    sub.on('message', (_t, p) => seen.push(JSON.parse(p.toString()) as Record<string, unknown>));
    try {
      let gw = await startGatewayProcess(site.file);
      running.push(gw);
      await waitFor(() => sub.connected, 10_000);
      const ok = (await (await post(gw.apiUrl, 'gate-north', { command: 'open' })).json()) as { id: number; status: string };
      expect(ok.status).toBe('succeeded');
      await waitFor(() => seen.find((e) => (e['attributes'] as Record<string, unknown>)['id'] === ok.id), 10_000);

      // A command in flight when the process is killed.
      const hanging = post(gw.apiUrl, 'gate-west', { command: 'open' }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 800));
      await killAndWait(gw.proc, 'SIGKILL');
      await hanging;

      gw = await startGatewayProcess(site.file);
      running.push(gw);
      const rows = (await (await fetch(`${gw.apiUrl}/api/commands`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { id: number; device: string; status: string; code: string | null; caller: string }[];
      expect(rows.find((r) => r.id === ok.id)).toMatchObject({ device: 'gate-north', status: 'succeeded', caller: 'ops-desk' });
      const cut = rows.find((r) => r.device === 'gate-west');
      expect(cut).toMatchObject({ status: 'failed', code: 'INTERRUPTED' });
      await waitFor(() => seen.find((e) => e['device'] === 'gate-west' && (e['attributes'] as Record<string, unknown>)['code'] === 'INTERRUPTED'), 10_000);
      await killAndWait(gw.proc, 'SIGTERM');
    } finally {
      await sub.endAsync();
    }
  }, 90_000);
});
