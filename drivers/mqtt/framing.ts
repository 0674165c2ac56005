import type { IPublishPacket } from 'mqtt-packet';

/**
 * Cuts the bytes a broker sends into MQTT packets and reads the PUBLISH packets itself, the one
 * kind that comes by the thousand: the fixed header, the topic, the packet id and the payload (a
 * view of the socket's buffer, not a copy), checked as mqtt-packet checks them. Every other
 * packet, and an MQTT 5 PUBLISH with properties, goes whole to `other` (mqtt-packet's parser), in
 * the order it came. mqtt-packet gathered every read into a buffer list and parsed field by field
 * through it; that was an eighth of the gateway's work per message (profile of `npm run bench peers`).
 */
export class PacketReader {
  /** The start of a packet whose end has not come yet. */
  private rest: Buffer | undefined;

  constructor(
    private readonly protocolVersion: 4 | 5,
    private readonly other: (packet: Buffer) => void,
  ) {}

  /** The packets `chunk` completes, in order: PUBLISH packets pushed to `out`. Throws on a malformed packet. */
  read(chunk: Buffer, out: IPublishPacket[]): void {
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = undefined;
    let o = 0;
    while (o < buf.length) {
      // Remaining length: a variable byte integer of at most 4 bytes (MQTT 3.1.1 section 2.2.3).
      let length = 0;
      let mul = 1;
      let i = o + 1;
      let complete = false;
      for (let n = 0; n < 4 && i < buf.length; n++) {
        const b = buf[i++] as number;
        length += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete) {
        if (i - o - 1 >= 4) throw new Error('Invalid variable byte integer');
        break; // the length's last byte is still to come
      }
      const end = i + length;
      if (end > buf.length) break;
      const first = buf[o] as number;
      if (first >> 4 !== 3 || !this.publish(buf, first, i, end, length, out)) this.other(buf.subarray(o, end));
      o = end;
    }
    // A copy: the rest of a large read should not keep all of it alive.
    if (o < buf.length) this.rest = Buffer.from(buf.subarray(o));
  }

  /** A PUBLISH from its variable header at `start` to `end`; false to leave it to mqtt-packet. */
  private publish(buf: Buffer, first: number, start: number, end: number, length: number, out: IPublishPacket[]): boolean {
    const qos = (first >> 1) & 3;
    if (qos === 3) throw new Error('Packet must not have both QoS bits set to 1');
    if (end - start < 2) throw new Error('Cannot parse topic');
    const topicEnd = start + 2 + buf.readUInt16BE(start);
    if (topicEnd > end) throw new Error('Cannot parse topic');
    let p = topicEnd;
    let messageId: number | undefined;
    if (qos > 0) {
      if (end - p < 2) throw new Error('Cannot parse messageId');
      messageId = buf.readUInt16BE(p);
      p += 2;
    }
    if (this.protocolVersion === 5) {
      // Properties (a topic alias, user properties…): rare from a broker; mqtt-packet reads them.
      if (p >= end || buf[p] !== 0) return false;
      p += 1;
    }
    const packet: IPublishPacket = {
      cmd: 'publish',
      retain: (first & 1) !== 0,
      qos: qos as 0 | 1 | 2,
      dup: (first & 8) !== 0,
      length,
      topic: buf.toString('utf8', start + 2, topicEnd),
      payload: buf.subarray(p, end),
    };
    if (messageId !== undefined) packet.messageId = messageId;
    out.push(packet);
    return true;
  }
}
