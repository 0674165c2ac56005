import { describe, expect, it } from 'vitest';
import { DT, plainValue, severity, timestampOf, toReading } from '../../../drivers/opcua/quality.js';

const T = Date.parse('2024-11-22T02:00:00Z');
const dv = (value: unknown, code = 0, name = 'Good', dataType: number = DT.Double) => ({ value: { dataType, value }, statusCode: { value: code, name }, sourceTimestamp: new Date(T), serverTimestamp: null });

describe('OPC UA status codes → quality', () => {
  it.each([
    [0x00000000, 'good'],
    [0x00000480, 'good'], // Good with the overflow info bits
    [0x002d0000, 'good'], // GoodClamped
    [0x40900000, 'uncertain'], // UncertainLastUsableValue
    [0x408f0000, 'uncertain'], // UncertainSensorNotAccurate
    [0x80310000, 'bad'], // BadNoCommunication
    [0x808b0000, 'bad'], // BadSensorFailure
    [0xc0000000, 'bad'], // reserved severity 11
  ] as const)('0x%s is %s', (code, q) => expect(severity(code)).toBe(q));

  it('a Bad value is never a number, whatever the server sent with it', () => {
    const r = toReading('d', { metric: 'power', unit: 'kW' }, dv(12.5, 0x808b0000, 'BadSensorFailure'), 0);
    expect(r).toEqual({ device: 'd', metric: 'power', ts: T, value: null, unit: 'kW', quality: 'bad', reason: 'BadSensorFailure' });
  });

  it('Uncertain keeps the value and says why', () => {
    expect(toReading('d', { metric: 'power' }, dv(7, 0x40900000, 'UncertainLastUsableValue'), 0)).toMatchObject({ value: 7, quality: 'uncertain', reason: 'UncertainLastUsableValue' });
  });

  it('Good is plain (no quality field: the pipeline defaults it)', () => {
    const r = toReading('d', { metric: 'power', scale: 0.1, offset: 1 }, dv(3), 0);
    expect(r).toEqual({ device: 'd', metric: 'power', ts: T, value: 1.3 });
  });

  it('maps enum codes, and refuses an unmapped one', () => {
    const map = { '1': 'heating', '5': 'defrost' };
    expect(toReading('d', { metric: 'mode', map }, dv(5, 0, 'Good', 5), 0).value).toBe('defrost');
    expect(toReading('d', { metric: 'mode', map }, dv(4, 0, 'Good', 5), 0)).toMatchObject({ value: null, quality: 'bad', reason: 'out_of_range' });
  });

  it('a missing value with a Good status is a decode error', () => {
    expect(toReading('d', { metric: 'power' }, { value: null, statusCode: { value: 0, name: 'Good' } }, 5)).toMatchObject({ value: null, quality: 'bad', reason: 'decode_error', ts: 5 });
  });
});

describe('timestamps and values', () => {
  it('source, else server, else receive time; the 1601 "no time" is no time', () => {
    expect(timestampOf({ sourceTimestamp: new Date(T), serverTimestamp: new Date(T + 5) }, 9)).toBe(T);
    expect(timestampOf({ sourceTimestamp: null, serverTimestamp: new Date(T + 5) }, 9)).toBe(T + 5);
    expect(timestampOf({ sourceTimestamp: new Date(Date.UTC(1601, 0, 1)), serverTimestamp: null }, 9)).toBe(9);
  });

  it('64-bit integers from [high, low] words, exactly', () => {
    expect(plainValue({ dataType: DT.Int64, value: [0xffffffff, 0xfffffffe] })).toBe(-2n);
    expect(plainValue({ dataType: DT.UInt64, value: [0x00200000, 1] })).toBe(2n ** 53n + 1n);
  });

  it('LocalizedText as its text, DateTime as epoch ms, arrays and structures refused', () => {
    expect(plainValue({ dataType: DT.LocalizedText, value: { text: 'Heizen', locale: 'de' } })).toBe('Heizen');
    expect(plainValue({ dataType: DT.DateTime, value: new Date(T) })).toBe(T);
    expect(plainValue({ dataType: DT.Double, value: [1, 2, 3] })).toBeUndefined();
    expect(toReading('d', { metric: 'power' }, dv([1, 2, 3]), 0)).toMatchObject({ quality: 'bad', reason: 'decode_error' });
  });
});
