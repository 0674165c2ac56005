import { describe, expect, it } from 'vitest';
import { CODECS } from '../../../drivers/mqtt/codecs/index.js';
import { decodeWaterStatus, encodeWaterMeterFrame, encodeWaterStatus, loraWaterMeterCodec } from '../../../drivers/mqtt/codecs/lorawan-water-meter.js';
import { encodeParkingHeartbeat, parkingSensorCodec } from '../../../drivers/mqtt/codecs/parking-sensor.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('parking-sensor codec (TS013 shape), golden byte vectors', () => {
  it.each([
    { fPort: 1, bytes: '01', data: { frame: 'status', occupied: true } },
    { fPort: 1, bytes: '00', data: { frame: 'status', occupied: false } },
    { fPort: 1, bytes: 'fe', data: { frame: 'status', occupied: false } },
    { fPort: 2, bytes: '0117', data: { frame: 'heartbeat', occupied: true, temperature: 23 } },
    { fPort: 2, bytes: '00f6', data: { frame: 'heartbeat', occupied: false, temperature: -10 } },
    { fPort: 3, bytes: '00000000000000000000000000000000 01', data: { frame: 'startup', occupied: true } },
  ])('fPort $fPort bytes $bytes', ({ fPort, bytes, data }) => {
    expect(parkingSensorCodec.decodeUplink({ bytes: hex(bytes), fPort })).toEqual({ data });
  });

  it.each([
    { fPort: 4, bytes: '01', error: 'unexpected fPort 4' },
    { fPort: 1, bytes: '', error: 'fPort 1 needs 1 byte' },
    { fPort: 2, bytes: '01', error: 'fPort 2 needs 2 bytes' },
    { fPort: 3, bytes: '0001', error: 'needs 17 bytes' },
  ])('refuses fPort $fPort bytes "$bytes"', ({ fPort, bytes, error }) => {
    const out = parkingSensorCodec.decodeUplink({ bytes: hex(bytes), fPort });
    expect(out.data).toBeUndefined();
    expect(out.errors?.[0]).toContain(error);
  });

  it('encodes what it decodes', () => {
    expect(Buffer.from(encodeParkingHeartbeat(true, -3)).toString('hex')).toBe('01fd');
  });
});

describe('lorawan-water-meter codec, golden byte vectors', () => {
  // Built by an independent Python encoder: time 2024-11-22T00:00:00Z, status 0x24 (leak + low
  // battery), log volume 123456 L, deltas 0,1,2,3,16383,100,200,300,400,500,8191,4096,7..17.
  const frame = '0180c93f672440e2010000400020000c00ff3f19800cb00490017df0ff0140070002900028000b0003d00038000f0004100100';
  const deltas = [0, 1, 2, 3, 16383, 100, 200, 300, 400, 500, 8191, 4096, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17];

  it('decodes the frame', () => {
    const out = loraWaterMeterCodec.decodeUplink({ bytes: hex(frame), fPort: 100 });
    expect(out.errors).toBeUndefined();
    const d = out.data as Record<string, unknown>;
    expect(d['time']).toBe(1732233600);
    expect(d['status']).toBe(0x24);
    expect(d['log_volume_l']).toBe(123456);
    expect(d['deltas']).toEqual(deltas);
    expect(d['volume_l']).toBe(153764);
    expect(d['alarms']).toEqual({ low_battery: true, permanent_error: false, temporary_error: false, dry: false, backflow: false, burst: false, leak: true, low_temperature: false });
    const hourly = d['hourly'] as { time: number; volume_l: number; flow_l_h?: number }[];
    expect(hourly).toHaveLength(24);
    expect(hourly[0]).toEqual({ time: 1732233600, volume_l: 123456 });
    expect(hourly[5]).toEqual({ time: 1732233600 + 5 * 3600, volume_l: 123456 + 0 + 1 + 2 + 3 + 16383, flow_l_h: 16383 });
    expect(hourly[23]).toEqual({ time: 1732233600 + 23 * 3600, volume_l: 153764, flow_l_h: 17 });
  });

  it('round-trips through the simulator encoder', () => {
    const bytes = encodeWaterMeterFrame({ time: 1732233600, status: 0x24, logVolumeL: 123456, deltas });
    expect(Buffer.from(bytes).toString('hex')).toBe(frame);
  });

  it('reads the status byte as the spec says', () => {
    expect(decodeWaterStatus(0x10)).toMatchObject({ dry: true, temporary_error: false });
    expect(decodeWaterStatus(0x14)).toMatchObject({ dry: false, temporary_error: true, low_battery: true });
    expect(decodeWaterStatus(0x60)).toMatchObject({ backflow: true, leak: false, burst: false });
    expect(decodeWaterStatus(0xa0)).toMatchObject({ burst: true, leak: false, low_temperature: false });
    expect(decodeWaterStatus(0x80)).toMatchObject({ low_temperature: true, burst: false });
    expect(decodeWaterStatus(0x08)).toMatchObject({ permanent_error: true });
    for (const a of [{ leak: true }, { burst: true }, { backflow: true }, { dry: true }, { leak: true, low_battery: true }]) {
      expect(decodeWaterStatus(encodeWaterStatus(a))).toMatchObject(a);
    }
  });

  it.each([
    { fPort: 1, bytes: frame, error: 'unexpected fPort 1' },
    { fPort: 100, bytes: frame.slice(0, -2), error: 'expected 51 bytes, got 50' },
    { fPort: 100, bytes: `02${frame.slice(2)}`, error: 'unknown frame version 0x02' },
  ])('refuses $error', ({ fPort, bytes, error }) => {
    const out = loraWaterMeterCodec.decodeUplink({ bytes: hex(bytes), fPort });
    expect(out.data).toBeUndefined();
    expect(out.errors).toEqual([expect.stringContaining(error)]);
  });

  it('is registered by name', () => {
    expect([...CODECS.keys()].sort()).toEqual(['lorawan-water-meter', 'parking-sensor']);
  });
});
