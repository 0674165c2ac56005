import { describe, expect, it } from 'vitest';
import { encodeBcd } from '../../../drivers/core/bcd.js';
import { buildFrame } from '../../../drivers/core/meter-frame.js';
import { heatBody, waterBody } from '../../../drivers/cjt188/bodies.js';
import { METER_TYPE, readReply, readRequest, scan } from '../../../drivers/cjt188/frame.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('CJ/T 188-2004 from a published exchange (a cold-water meter, identifier sent 1F 90)', () => {
  // hftangyu.com/563.html and shuzhiduo.com (the same SC meter log): meter 0011223344, maker 7833.
  const request = 'FE FE FE FE 68 10 44 33 22 11 00 33 78 01 03 1F 90 00 80 16';
  // The published reply ends `21 84 08 16`, but its bytes sum to 0x13, not 0x08 (the article's
  // status bytes were likely edited by hand): as published it is a checksum error, which is what a
  // reader must say. With the sum its bytes give, it reads as the article explains.
  const published = 'FE FE FE FE 68 10 44 33 22 11 00 33 78 81 16 1F 90 00 00 77 66 55 2C 00 77 66 55 2C 31 01 22 11 05 15 20 21 84 08 16';
  const reply = published.replace('21 84 08 16', '21 84 13 16');

  it('refuses the reply as published: its check byte does not match its bytes', () => {
    expect(scan(hex(published))).toMatchObject({ kind: 'error', reason: 'checksum' });
  });

  it('builds the request byte for byte', () => {
    expect(readRequest({ type: METER_TYPE.cold_water, address: '78330011223344', order: 'lsb_first' })).toEqual(hex(request));
  });

  it('reads 556677.00 m³, the meter clock and the valve state', () => {
    const s = scan(hex(reply));
    expect(s.kind).toBe('frame');
    if (s.kind !== 'frame') return;
    const r = readReply(s.frame, { address: '78330011223344', seq: 0 });
    expect(r.kind).toBe('data');
    if (r.kind !== 'data') return;
    expect(r.type).toBe(0x10);
    expect(waterBody(r.body)).toEqual({
      volume_total: { value: 556677, unit: 'm³', code: 0x2c },
      volume_settlement: { value: 556677, unit: 'm³', code: 0x2c },
      meter_time: { value: '2015-05-11T22:01:31' },
      valve_closed: { value: true },
      valve_fault: { value: false },
      low_battery: { value: false },
      status_word: { value: 0x8421 },
    });
  });

  it('accepts the same reply when the request sent the identifier 90 1F, and a wildcard address', () => {
    const s = scan(hex(reply));
    if (s.kind !== 'frame') throw new Error('no frame');
    expect(readReply(s.frame, { address: 'AAAAAAAAAAAAAA' })).toMatchObject({ kind: 'data', address: '78330011223344' });
    expect(readRequest({ type: 0x10, address: 'AAAAAAAAAAAAAA', wakeUp: 0 }).toString('hex')).toBe('6810aaaaaaaaaaaaaa0103901f00' + 'd1' + '16');
  });

  it('converts by the unit code, not by assumption: litres and an unknown code', () => {
    const body = Buffer.concat([encodeBcd(1234.5, 4, { decimals: 2 }), Buffer.from([0x29]), encodeBcd(0, 4, { decimals: 2 }), Buffer.from([0x77]), hex('00 00 00 01 01 26 20'), hex('04 00')]);
    const b = waterBody(body);
    expect(b).toMatchObject({ volume_total: { value: 1.2345, unit: 'm³' }, volume_settlement: { error: 'unknown_unit', code: 0x77 }, low_battery: { value: true } });
    expect((b as Record<string, { value?: number }>).volume_total?.value).toBeCloseTo(1.2345, 10);
  });

  it('reads a heat meter body: kWh, kW, m³/h, temperatures', () => {
    const q = (v: number, d: number, code: number) => Buffer.concat([encodeBcd(v, 4, { decimals: d }), Buffer.from([code])]);
    const body = Buffer.concat([
      q(1000, 2, 0x05), q(1234.56, 2, 0x05), q(12.5, 2, 0x17), q(1.2345, 4, 0x35), q(321.09, 2, 0x2c),
      encodeBcd(65.43, 3, { decimals: 2 }), encodeBcd(45.21, 3, { decimals: 2 }), encodeBcd(8760, 3, { decimals: 0 }),
      hex('00 30 12 03 12 26 20'), hex('00 00'),
    ]);
    const frame = buildFrame(Buffer.concat([hex('68 20'), hex('01 00 00 00 00 00 00'), hex('81')]), Buffer.concat([hex('90 1F 07'), body]));
    const s = scan(frame);
    if (s.kind !== 'frame') throw new Error('no frame');
    const r = readReply(s.frame, { address: '00000000000001', seq: 7 });
    if (r.kind !== 'data') throw new Error(JSON.stringify(r));
    expect(heatBody(r.body)).toMatchObject({
      heat_total: { value: 1234560, unit: 'Wh' },
      thermal_power: { value: 12500, unit: 'W' },
      flow: { value: 1.2345, unit: 'm³/h' },
      supply_temp: { value: 65.43 },
      return_temp: { value: 45.21 },
      working_hours: { value: 8760 },
      meter_time: { value: '2026-12-03T12:30:00' },
    });
  });

  it('refuses another sequence number and reports error replies with their status word', () => {
    const s = scan(hex(reply));
    if (s.kind !== 'frame') throw new Error('no frame');
    expect(readReply(s.frame, { address: '78330011223344', seq: 5 }).kind).toBe('mismatch');
    const err = buildFrame(Buffer.concat([hex('68 10 44 33 22 11 00 33 78 C1')]), hex('90 1F 00 04 00'));
    const e = scan(err);
    expect(e.kind === 'frame' && readReply(e.frame, { address: '78330011223344' })).toMatchObject({ kind: 'error_reply', status: 4 });
  });
});
