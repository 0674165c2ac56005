import { afterEach, describe, expect, it, vi } from 'vitest';
import { Session } from '../../../drivers/mqtt/session.js';
import { tempDir } from '../../helpers/peers.js';
import { MOSQUITTO, startMosquitto, type Mosquitto } from './mosquitto.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The keepalive (1 s here) against a real Mosquitto, out of process so that it answers while
 * our event loop is held: a PINGRESP that arrived while the loop was busy past the next tick is
 * read before the verdict, so the session stays up; a broker gone silent is still left.
 */
describe.skipIf(!MOSQUITTO)('MQTT keepalive', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function connected(): Promise<{ broker: Mosquitto; downs: string[] }> {
    const t = tempDir('fcgw-ka-');
    const broker = await startMosquitto({ dir: t.dir });
    cleanups.push(t.cleanup, () => broker.stop());
    const downs: string[] = [];
    let up!: () => void;
    const isUp = new Promise<void>((r) => (up = r));
    const s = new Session(
      { url: new URL(broker.url), clientId: 'ka-test', clean: true, keepaliveS: 1, protocolVersion: 4, sessionExpiryS: 0, filters: ['ka/#'], maxUnacked: 1000, connectTimeoutMs: 5000 },
      { messages: () => undefined, up: () => up(), refused: () => undefined, down: (err) => void downs.push(err?.message ?? 'closed') },
    );
    s.open();
    cleanups.push(() => s.close(100));
    await isUp;
    return { broker, downs };
  }

  it('stays up when the event loop was held past a tick while the PINGRESP waited unread', async () => {
    // Right after the first PINGREQ is written, a job holds the loop (as a long commit or a
    // stalled disk would, in the turn's I/O or immediate phase) past the next tick. Mosquitto
    // answers meanwhile; the overdue tick then runs before the loop reads that PINGRESP.
    const proto = Session.prototype as unknown as { send(p: { cmd: string }): void };
    const send = proto.send;
    let held = false;
    const spy = vi.spyOn(proto, 'send').mockImplementation(function (this: unknown, p: { cmd: string }) {
      send.call(this, p);
      if (p.cmd !== 'pingreq' || held) return;
      held = true;
      setImmediate(() => {
        const until = performance.now() + 1250;
        while (performance.now() < until) {
          // held
        }
      });
    });
    cleanups.push(() => spy.mockRestore());
    const { downs } = await connected();
    await vi.waitFor(() => expect(held).toBe(true), { timeout: 3000 });
    await sleep(1800);
    expect(downs).toEqual([]);
  });

  it('leaves a broker gone silent with its socket open (SIGSTOP)', async () => {
    const { broker, downs } = await connected();
    const pid = broker.pid() as number;
    process.kill(pid, 'SIGSTOP');
    cleanups.push(() => void process.kill(pid, 'SIGCONT'));
    await sleep(2600);
    expect(downs).toEqual(['nothing from the broker within the keepalive after a PINGREQ']);
  });
});
