import fc from 'fast-check';
import mqtt, { type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { PacketReader } from '../../../drivers/mqtt/framing.js';
import { splitAt } from '../../helpers/chunks.js';

// PacketReader against mqtt-packet's own parser: the same bytes (written by mqtt-packet's
// generate), cut into reads at random places, must give the same packets in the same order.

type V = 4 | 5;

const publish = (v: V) =>
  fc
    .record({
      topic: fc.string({ unit: fc.constantFrom('a', 'b', '/', '+', '莲', '花', '0', ' ', '€'), maxLength: 40 }).filter((t) => t.length > 0),
      payload: fc.uint8Array({ maxLength: 300 }),
      qos: fc.constantFrom(0, 1, 2) as fc.Arbitrary<0 | 1 | 2>,
      dup: fc.boolean(),
      retain: fc.boolean(),
      messageId: fc.integer({ min: 1, max: 65535 }),
      props: v === 5 ? fc.option(fc.record({ payloadFormatIndicator: fc.boolean(), messageExpiryInterval: fc.integer({ min: 1, max: 3600 }), userProperties: fc.constant({ site: 'lianhua' }) }), { nil: undefined }) : fc.constant(undefined),
    })
    .map(({ topic, payload, qos, dup, retain, messageId, props }): Packet => ({
      cmd: 'publish',
      topic,
      payload: Buffer.from(payload),
      qos,
      dup: qos > 0 && dup,
      retain,
      ...(qos > 0 ? { messageId } : {}),
      ...(props ? { properties: props } : {}),
    }));

const others = (v: V): fc.Arbitrary<Packet>[] => [
  fc.constant({ cmd: 'pingresp' } as Packet),
  fc.integer({ min: 1, max: 65535 }).map((messageId): Packet => ({ cmd: 'pubrel', messageId })),
  fc.integer({ min: 1, max: 65535 }).map((messageId): Packet => ({ cmd: 'puback', messageId })),
  fc.integer({ min: 1, max: 65535 }).map((messageId): Packet => ({ cmd: 'suback', messageId, granted: [1, 0x80] })),
  fc.boolean().map((sessionPresent): Packet => (v === 5 ? { cmd: 'connack', sessionPresent, reasonCode: 0 } : { cmd: 'connack', sessionPresent, returnCode: 0 })),
];

/** Packets as plain data (payloads as hex), for comparison. */
const plain = (packets: readonly Packet[]) => JSON.parse(JSON.stringify(packets, (_k, v: unknown) => (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' ? Buffer.from((v as { data: number[] }).data).toString('hex') : v))) as unknown;

/** Both parsers over the same reads. */
function both(v: V, reads: readonly Buffer[]) {
  const reference: Packet[] = [];
  const refParser = mqtt.parser({ protocolVersion: v });
  const refErrors: string[] = [];
  refParser.on('packet', (p: Packet) => reference.push(p));
  refParser.on('error', (e: Error) => refErrors.push(e.message));
  for (const r of reads) refParser.parse(r);

  const ours: Packet[] = [];
  const fallback = mqtt.parser({ protocolVersion: v });
  fallback.on('packet', (p: Packet) => ours.push(p));
  const reader = new PacketReader(v, (bytes) => fallback.parse(bytes));
  let error: string | undefined;
  try {
    for (const r of reads) reader.read(r, ours as never[]);
  } catch (e) {
    error = (e as Error).message;
  }
  return { reference, refErrors, ours, error };
}

describe('PacketReader: the bytes mqtt-packet writes read back as mqtt-packet reads them', () => {
  for (const v of [4, 5] as const) {
    it(`MQTT ${v === 4 ? '3.1.1' : '5'}: publishes and other packets, in any cut of the stream`, () => {
      fc.assert(
        fc.property(fc.array(fc.oneof({ weight: 4, arbitrary: publish(v) }, ...others(v).map((a) => ({ weight: 1, arbitrary: a }))), { minLength: 1, maxLength: 25 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }), (packets, at) => {
          const bytes = Buffer.concat(packets.map((p) => mqtt.generate(p, { protocolVersion: v })));
          const r = both(v, splitAt(bytes, at));
          expect(r.refErrors).toEqual([]);
          expect(r.error).toBeUndefined();
          expect(r.ours.length).toBe(packets.length);
          expect(plain(r.ours)).toEqual(plain(r.reference));
        }),
        { numRuns: 300 },
      );
    });
  }

  it('a payload larger than one read, and one byte per read', () => {
    const p: Packet = { cmd: 'publish', topic: 'fcgw/d1/up', payload: Buffer.alloc(200_000, 0x61), qos: 1, messageId: 7, dup: false, retain: false };
    const bytes = mqtt.generate(p, { protocolVersion: 4 });
    const big = both(4, splitAt(bytes, [0.1, 0.5, 0.9]));
    expect(plain(big.ours)).toEqual(plain(big.reference));
    const small = mqtt.generate({ ...p, payload: Buffer.from('{"ts":1}') }, { protocolVersion: 4 });
    const bytewise = both(4, [...small].map((b) => Buffer.from([b])));
    expect(plain(bytewise.ours)).toEqual(plain(bytewise.reference));
    expect((bytewise.ours[0] as { payload: Buffer }).payload.toString()).toBe('{"ts":1}');
  });

  it('refuses what mqtt-packet refuses: QoS 3, a topic past the packet, a five-byte length', () => {
    const cases: [string, Buffer][] = [
      ['QoS 3', Buffer.from([0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01])],
      ['topic past the packet', Buffer.from([0x30, 0x03, 0x00, 0x09, 0x61])],
      ['five-byte remaining length', Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])],
    ];
    for (const [name, bytes] of cases) {
      const r = both(4, [bytes]);
      expect(r.error, name).toBeDefined();
      expect(r.refErrors.length, name).toBeGreaterThan(0);
      expect(r.ours, name).toEqual([]);
    }
  });

  it('refuses a QoS 1 publish without its packet id, which mqtt-packet reads with id -1 (and would be acknowledged so)', () => {
    const r = both(4, [Buffer.from([0x32, 0x03, 0x00, 0x01, 0x61])]);
    expect(r.error).toBe('Cannot parse messageId');
    expect(r.ours).toEqual([]);
    expect(r.reference).toMatchObject([{ cmd: 'publish', qos: 1, messageId: -1 }]);
  });
});
