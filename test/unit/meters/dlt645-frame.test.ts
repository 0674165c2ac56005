import { describe, expect, it } from 'vitest';
import { decodeBcd, encodeBcd } from '../../../drivers/core/bcd.js';
import { addressReply, readAddressRequest, readReply, readRequest, scan } from '../../../drivers/dlt645/frame.js';
import { IDENTIFIERS_1997, IDENTIFIERS_2007 } from '../../../drivers/dlt645/identifiers.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function frameOf(s: string): Buffer {
  const r = scan(hex(s));
  if (r.kind !== 'frame') throw new Error(`no frame: ${JSON.stringify(r)}`);
  return r.frame;
}

/**
 * Frames published by others, not by us: debugging logs and integration notes of real meters
 * (cited per case). Each is raw bytes in, value out.
 */
describe('DL/T 645-2007 frames from published exchanges', () => {
  it('builds the read of forward active energy exactly as a logged master sent it', () => {
    // "FE FE FE FE 68 61 01 00 00 00 00 68 11 04 33 33 34 33 14 16" (a DLT645-2007 报文解析 log)
    expect(readRequest('000000000161', '00010000', '2007').toString('hex')).toBe('fefefefe68610100000000681104333334331416');
    // "68 25 04 03 02 01 00 68 11 04 33 33 34 33 E1 16" (553668.com: 发送查表数据), without wake-up bytes
    expect(readRequest('000102030425', '00010000', '2007', 0).toString('hex')).toBe('6825040302010068110433333433e116');
  });

  it('reads 0.26 kWh and 1206.42 kWh of forward energy from two meters', () => {
    const a = readReply(frameOf('68 61 01 00 00 00 00 68 91 08 33 33 34 33 59 33 33 33 8A 16'), { address: '000000000161', di: '00010000', edition: '2007' });
    expect(a.kind).toBe('value');
    if (a.kind !== 'value') return;
    expect(decodeBcd(a.value, IDENTIFIERS_2007['00010000']!)).toBe(0.26);
    const b = readReply(frameOf('68 25 04 03 02 01 00 68 91 08 33 33 34 33 75 39 45 33 8B 16'), { address: '000102030425', di: '00010000', edition: '2007' });
    expect(b.kind === 'value' && decodeBcd(b.value, IDENTIFIERS_2007['00010000']!)).toBe(1206.42);
  });

  it('reads phase A voltage 100.1 V', () => {
    const r = readReply(frameOf('68 61 01 00 00 00 00 68 91 06 33 34 34 35 34 43 10 16'), { address: '000000000161', di: '02010100', edition: '2007' });
    expect(r.kind === 'value' && decodeBcd(r.value, IDENTIFIERS_2007['02010100']!)).toBe(100.1);
  });

  it('skips wake-up bytes before a reply, and builds the broadcast read-address request', () => {
    const r = scan(hex('FE FE FE 68 61 01 00 00 00 00 68 91 06 33 34 34 35 34 43 10 16'));
    expect(r.kind === 'frame' && r.skipped).toBe(0);
    // "FE FE FE 68 AA AA AA AA AA AA 68 13 00 DF 16 可以读出准确地址" (553668.com)
    expect(readAddressRequest(3).toString('hex')).toBe('fefefe68aaaaaaaaaaaa681300df16');
  });

  it('parses a read-address reply into the label digits', () => {
    const reply = hex('68 25 04 03 02 01 00 68 93 06 58 37 36 35 34 33 00 16');
    reply[16] = [...reply.subarray(0, 16)].reduce((s, b) => (s + b) & 0xff, 0);
    const r = scan(reply);
    expect(r.kind === 'frame' && addressReply(r.frame)).toBe('000102030425');
  });

  it('reports an error reply (0xD1, "no such data") instead of a value', () => {
    const f = hex('68 61 01 00 00 00 00 68 D1 01 35 00 16');
    f[11] = [...f.subarray(0, 11)].reduce((s, b) => (s + b) & 0xff, 0);
    const r = readReply(frameOf(f.toString('hex')), { address: '000000000161', di: '02800002', edition: '2007' });
    expect(r).toMatchObject({ kind: 'error_reply', code: 0x02, meaning: 'no such data' });
  });

  it('refuses a reply from another meter or for another identifier', () => {
    const f = frameOf('68 61 01 00 00 00 00 68 91 08 33 33 34 33 59 33 33 33 8A 16');
    expect(readReply(f, { address: '000000000162', di: '00010000', edition: '2007' }).kind).toBe('mismatch');
    expect(readReply(f, { address: '000000000161', di: '00020000', edition: '2007' }).kind).toBe('mismatch');
  });

  it('counts a bad checksum and a broken end byte as framing errors by reason', () => {
    expect(scan(hex('68 61 01 00 00 00 00 68 91 08 33 33 34 33 59 33 33 33 8B 16'))).toMatchObject({ kind: 'error', reason: 'checksum' });
    expect(scan(hex('68 61 01 00 00 00 00 68 91 08 33 33 34 33 59 33 33 33 8A 17'))).toMatchObject({ kind: 'error', reason: 'framing' });
    expect(scan(hex('68 61 01 00 00 00 00 68 91 08 33 33'))).toMatchObject({ kind: 'incomplete', start: 0 });
    expect(scan(hex('00 11 68 61 01 00 00 00 00 68 91 06 33 34 34 35 34 43 10 16'))).toMatchObject({ kind: 'frame', skipped: 2 });
  });

  it('reads negative power by its sign bit: -1.2345 kW is 0x81 0x23 0x45 (low byte first)', () => {
    const f = IDENTIFIERS_2007['02030000']!;
    expect(decodeBcd(Buffer.from([0x45, 0x23, 0x81]), f)).toBe(-1.2345);
    expect(encodeBcd(-1.2345, 3, f).toString('hex')).toBe('452381');
    expect(decodeBcd(Buffer.from([0xff, 0xff, 0xff]), f)).toBeUndefined();
  });
});

describe('DL/T 645-1997 frames from a published exchange', () => {
  it('reads phase A voltage 100 V (DI B611)', () => {
    // Heyuan ASDU-LS manual, 9-17: send 68 03 00 00 00 00 00 68 01 02 44 E9 03 16, receive … 81 04 44 E9 33 34 EC 16
    expect(readRequest('000000000003', 'B611', '1997', 0).toString('hex')).toBe('6803000000000068010244e90316');
    const r = readReply(frameOf('68 03 00 00 00 00 00 68 81 04 44 E9 33 34 EC 16'), { address: '000000000003', di: 'B611', edition: '1997' });
    expect(r.kind === 'value' && decodeBcd(r.value, IDENTIFIERS_1997.B611!)).toBe(100);
  });
});
