import { describe, expect, it } from 'vitest';
import { buildFrame } from '../../../drivers/core/meter-frame.js';
import { parseRelayData, relayReply, relayRequest } from '../../../drivers/dlt645/control.js';
import { parseFrame, scan } from '../../../drivers/dlt645/frame.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('DL/T 645-2007 remote control frames (C = 0x1C)', () => {
  it('builds the trip frame exactly as a published master sends it', () => {
    // A published DL/T 645 master's remote-control routine (CDL645::SendYk, a C++ gateway driver) documents
    // "68 06 10 24 05 19 20 68 1C 10 35 33 33 33 33 33 33 33 4D 33 33 33 33 33 33 33 C0 16":
    // meter 201905241006, password level 02, password 000000, operator 00000000, N1 = 1A (trip), no expiry.
    const sent = relayRequest('201905241006', 'trip', { level: 2, password: '000000', operator: '00000000' }, 0);
    expect(sent.toString('hex')).toBe(hex('68 06 10 24 05 19 20 68 1C 10 35 33 33 33 33 33 33 33 4D 33 33 33 33 33 33 33 C0 16').toString('hex'));
    // The same routine's close frame differs only in N1 (4E: 1B close allowed) and the check byte.
    const close = relayRequest('201905241006', 'close', { level: 2, password: '000000', operator: '00000000' }, 0);
    expect(close[18]).toBe(0x4e);
    expect(close.length).toBe(28);
  });

  it('carries the password low byte first and the operator code, which the meter reads back', () => {
    const f = relayRequest('000000000161', 'close', { level: 4, password: '123456', operator: 'AB12CD34' }, 4);
    const r = scan(f);
    expect(r.kind).toBe('frame');
    const data = parseFrame(r.kind === 'frame' ? r.frame : Buffer.alloc(0)).data;
    expect(data.subarray(0, 4).toString('hex')).toBe('04563412');
    expect(parseRelayData(data)).toEqual({ action: 'close', level: 4, password: '123456', operator: 'AB12CD34' });
  });

  it('refuses a password or operator code that is not the standard shape', () => {
    expect(() => relayRequest('000000000161', 'trip', { level: 2, password: '12345', operator: '00000000' })).toThrow(/6 digits/);
    expect(() => relayRequest('000000000161', 'trip', { level: 2, password: '123456', operator: 'xyz' })).toThrow(/8 hex/);
  });

  it('reads the meter answer: 0x9C done, 0xDC with bit 2 wrong password, others are no answer to it', () => {
    const header = (c: number) => Buffer.concat([hex('68 06 10 24 05 19 20 68'), Buffer.from([c])]);
    expect(relayReply(buildFrame(header(0x9c), Buffer.alloc(0)), '201905241006')).toEqual({ kind: 'ok' });
    expect(relayReply(buildFrame(header(0xdc), Buffer.from([0x04 + 0x33])), '201905241006')).toMatchObject({ kind: 'refused', code: 4, meaning: 'wrong password or not authorised' });
    expect(relayReply(buildFrame(header(0x1c), Buffer.alloc(0)), '201905241006').kind).toBe('mismatch');
    expect(relayReply(buildFrame(header(0x9c), Buffer.alloc(0)), '000000000161').kind).toBe('mismatch');
    expect(relayReply(buildFrame(header(0x91), Buffer.alloc(0)), '201905241006').kind).toBe('mismatch');
  });
});
