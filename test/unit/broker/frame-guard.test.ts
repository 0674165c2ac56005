import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FrameGuard, type GuardRefusal } from '../../../gateway/broker/frame-guard.js';
import { splitAt } from '../../helpers/chunks.js';

/** Enough of a socket for the guard: 'data' in, writes recorded. */
class FakeSocket extends EventEmitter {
  bytesRead = 0;
  destroyed = false;
  paused = false;
  remoteAddress = '127.0.0.1';
  pause() {
    this.paused = true;
  }
  resume() {
    this.paused = false;
  }
  write() {
    return true;
  }
  end(cb?: () => void) {
    cb?.();
  }
  destroy() {
    this.destroyed = true;
  }
  feed(chunk: Buffer) {
    this.bytesRead += chunk.length;
    this.emit('data', chunk);
  }
}

const connect = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'c', clean: true, keepalive: 30 });
const publish = (size: number, i: number) =>
  mqttPacket.generate({ cmd: 'publish', topic: `t/${i}`, payload: Buffer.alloc(size, i & 255), qos: 1, messageId: (i % 65535) + 1, retain: false, dup: false });

function guarded(limits: { connect: number; packet: number }) {
  const socket = new FakeSocket();
  const refusals: GuardRefusal[] = [];
  const guard = new FrameGuard(socket as unknown as Socket, {
    maxConnectPacket: limits.connect,
    maxPacket: limits.packet,
    connectTimeoutMs: 60_000,
    onRefuse: (r) => refusals.push(r),
  });
  const out: Buffer[] = [];
  guard.on('data', (c: Buffer) => out.push(c));
  guard.on('error', () => undefined);
  return { socket, guard, out, refusals, passed: () => Buffer.concat(out) };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('frame guard', () => {
  it('passes any chunking of valid packets through unchanged, nothing past CONNECT before accept', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 8 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }), async (sizes, cuts) => {
        const stream = Buffer.concat([connect, ...sizes.map(publish)]);
        const g = guarded({ connect: 100, packet: 4000 });
        for (const chunk of splitAt(stream, cuts)) g.socket.feed(chunk);
        await tick();
        expect(g.passed().equals(connect)).toBe(true);
        g.guard.accept();
        await tick();
        expect(g.passed().equals(stream)).toBe(true);
        expect(g.refusals).toEqual([]);
        g.guard.destroy();
      }),
      { numRuns: 200 },
    );
  }, 30_000);

  it('holds a PUBLISH that arrives in the read after one that ended exactly with the CONNECT (found by the property above)', async () => {
    const g = guarded({ connect: 100, packet: 4000 });
    g.socket.feed(connect);
    g.socket.feed(publish(2213, 1));
    await tick();
    expect(g.refusals).toEqual([]);
    expect(g.passed().equals(connect)).toBe(true);
    g.guard.accept();
    await tick();
    expect(g.passed().equals(Buffer.concat([connect, publish(2213, 1)]))).toBe(true);
    g.guard.destroy();
  });

  it('closes on the first header over its limit, having passed nothing of that packet', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 5 }), fc.integer({ min: 1101, max: 200_000 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }), async (sizes, big, cuts) => {
        const good = Buffer.concat([connect, ...sizes.map(publish)]);
        const stream = Buffer.concat([good, publish(big, 99)]);
        const g = guarded({ connect: 100, packet: 1100 });
        g.guard.accept();
        for (const chunk of splitAt(stream, cuts)) if (!g.socket.destroyed) g.socket.feed(chunk);
        await tick();
        expect(g.socket.destroyed).toBe(true);
        expect(g.refusals).toEqual(['packet_too_large']);
        expect(g.passed().length).toBeLessThanOrEqual(good.length);
      }),
      { numRuns: 200 },
    );
  }, 30_000);

  it('never throws on arbitrary bytes: passes them or refuses with a reason', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, accepted) => {
        const g = guarded({ connect: 64, packet: 128 });
        if (accepted) g.guard.accept();
        g.socket.feed(Buffer.from(bytes));
        expect(g.refusals.length).toBeLessThanOrEqual(1);
        if (g.refusals.length === 0) expect(g.socket.destroyed).toBe(false);
        g.guard.destroy();
      }),
      { numRuns: 500 },
    );
  });
});
