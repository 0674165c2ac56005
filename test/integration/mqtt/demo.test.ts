import { describe, expect, it } from 'vitest';
import { PII_ATTRIBUTE_NAMES } from '../../../gateway/model/catalog.js';
import { relocatedDemo } from '../../helpers/demo.js';
import { startGatewayProcess } from '../../helpers/gateway-process.js';
import { tempDir, waitFor } from '../../helpers/peers.js';

interface EventRow {
  ts: string;
  device: string;
  class: string;
  type: string;
  attributes: Record<string, unknown>;
}

/**
 * The demo as `npm start` runs it (real process, embedded broker, the simulated community), from
 * a morning at 900× so the transport scene happens within seconds: /api/events shows the events
 * of every MQTT device class, with every personal field a pseudonym; /api/latest their values.
 */
const EVENT_TYPES = ['vehicle_entry', 'vehicle_exit', 'retrieval_requested', 'retrieval_completed', 'parcel_arrived', 'parcel_deposited', 'access_granted'];
const CLASSES = ['parking_space', 'parking_garage', 'parcel_locker', 'access_door', 'ev_charger', 'water_meter'];

describe('the demo over the embedded broker', () => {
  it('shows the transport scene in /api/events and /api/latest, personal fields pseudonymised', async () => {
    const { dir, cleanup } = tempDir('fcgw-mqtt-demo-');
    let gw: Awaited<ReturnType<typeof startGatewayProcess>> | undefined;
    try {
      const { configFile } = await relocatedDemo(dir, (doc) => {
        doc.setIn(['simulators', 'speed'], 900);
        doc.setIn(['simulators', 'start'], '2024-11-22T08:30:00+08:00');
      });
      gw = await startGatewayProcess(configFile);
      const api = gw.apiUrl;
      const events = await waitFor(async () => {
        const rows = (await (await fetch(`${api}/api/events?limit=10000`)).json()) as EventRow[];
        const seen = new Set(rows.map((r) => r.type));
        return EVENT_TYPES.every((t) => seen.has(t)) ? rows : undefined;
      }, 25_000, 250);

      const pii = events.flatMap((e) => Object.entries(e.attributes).filter(([k]) => PII_ATTRIBUTE_NAMES.has(k)));
      expect(new Set(pii.map(([k]) => k))).toEqual(new Set(['vehicle', 'credential', 'parcel']));
      for (const [k, v] of pii) expect(v, k).toMatch(/^p_[0-9a-f]{20}$/);
      // Pseudonyms still match a car's request to its completion.
      const requested = new Set(events.filter((e) => e.type === 'retrieval_requested').map((e) => e.attributes['vehicle']));
      expect(events.some((e) => e.type === 'retrieval_completed' && requested.has(e.attributes['vehicle']))).toBe(true);

      const latest = (await (await fetch(`${api}/api/latest`)).json()) as { class: string; device: string; quality: string }[];
      const good = new Set(latest.filter((r) => r.quality === 'good').map((r) => r.class));
      for (const c of CLASSES) expect(good, c).toContain(c);
      // LoRaWAN meters (ChirpStack envelopes, codec) beside the Modbus ones.
      expect(latest.some((r) => r.device.startsWith('wm-lora-'))).toBe(true);

      gw.proc.kill('SIGTERM');
      expect((await gw.exited).code).toBe(0);
    } finally {
      if (gw && gw.proc.exitCode === null) gw.proc.kill('SIGKILL');
      cleanup();
    }
  }, 60_000);
});
