import { createRequire } from 'node:module';
import type { IPublishPacket, Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { acknowledgements } from '../../../drivers/mqtt/session.js';

const mqttPacket = createRequire(import.meta.url)('mqtt-packet') as typeof import('mqtt-packet');

const publish = (qos: 0 | 1 | 2, messageId?: number): IPublishPacket => ({ cmd: 'publish', topic: 't', payload: Buffer.from('x'), qos, dup: false, retain: false, ...(messageId !== undefined ? { messageId } : {}) });

/** The session writes its PUBACKs and PUBRECs itself; mqtt-packet (which we did not write) is the reference. */
describe('MQTT acknowledgements of a batch', () => {
  const batch = [publish(1, 1), publish(0), publish(2, 0x1234), publish(1, 0xffff), publish(1, 0x0100)];

  for (const protocolVersion of [4, 5] as const) {
    it(`are mqtt-packet's own PUBACK/PUBREC bytes, in order, none for QoS 0 (MQTT ${protocolVersion === 4 ? '3.1.1' : '5'})`, () => {
      const expected = Buffer.concat(
        batch.filter((p) => p.qos > 0).map((p) => mqttPacket.generate({ cmd: p.qos === 1 ? 'puback' : 'pubrec', messageId: p.messageId as number }, { protocolVersion })),
      );
      expect(acknowledgements(batch, protocolVersion)?.toString('hex')).toBe(expected.toString('hex'));
      // And the broker's parser reads them back as such.
      const parsed: Packet[] = [];
      const parser = mqttPacket.parser({ protocolVersion });
      parser.on('packet', (p: Packet) => parsed.push(p));
      parser.parse(acknowledgements(batch, protocolVersion) as Buffer);
      expect(parsed.map((p) => [p.cmd, (p as { messageId?: number }).messageId])).toEqual([
        ['puback', 1],
        ['pubrec', 0x1234],
        ['puback', 0xffff],
        ['puback', 0x0100],
      ]);
    });
  }

  it('is nothing for a batch of QoS 0 messages', () => {
    expect(acknowledgements([publish(0), publish(0)], 4)).toBeUndefined();
  });
});
