import { describe, expect, it } from 'vitest';
import {
  formatAgo,
  formatDuration,
  formatNumber,
  formatTime,
  formatValue,
  formatWithUnit,
  kpiUnit,
  percentile,
  qualityClass,
  scaleUnit,
  startOfDay,
  tzOffset,
} from '../../../gateway/web/format.js';
import { translator } from '../../../gateway/web/i18n.js';

const en = translator('en');
const zh = translator('zh');

describe('numbers and units', () => {
  it.each([
    [12_500, 'W', 12.5, 'kW'],
    [950, 'W', 950, 'W'],
    [-3_200_000, 'W', -3.2, 'MW'],
    [0, 'W', 0, 'W'],
    [1_234_567, 'Wh', 1.234567, 'MWh'],
    [4_000, 'kgCO2', 4, 't CO₂'],
    [3.5, 'm³', 3.5, 'm³'],
  ])('scales %d %s to %d %s', (v, u, sv, su) => {
    expect(scaleUnit(v, u)).toEqual({ value: sv, unit: su });
  });

  it('keeps three significant figures', () => {
    expect(formatNumber(1234.4, 'en')).toBe('1,234');
    expect(formatNumber(12.34, 'en')).toBe('12.3');
    expect(formatNumber(1.234, 'en')).toBe('1.23');
    expect(formatNumber(-0.001, 'en', 0)).toBe('0');
    expect(formatNumber(Number.NaN, 'en')).toBe('–');
  });

  it('formats values with their catalog unit', () => {
    expect(formatWithUnit(12_500, 'W', 'en', en)).toBe('12.5 kW');
    expect(formatWithUnit(56.25, '%', 'zh', zh)).toBe('56.3 %');
    expect(formatWithUnit(21.04, '°C', 'en', en)).toBe('21.0 °C');
    expect(formatWithUnit(0.347, 'ratio', 'en', en)).toBe('34.7 %');
    expect(formatWithUnit(0.05, 'ratio', 'en', en)).toBe('5.00 %');
    expect(formatWithUnit(17, 'count', 'en', en)).toBe('17');
    expect(formatWithUnit(3.456, 'factor', 'en', en)).toBe('3.46');
    expect(formatWithUnit(1.5, 'm³/h', 'en', en)).toBe('1.50 m³/h');
  });

  it('translates booleans and enum states, and keeps unknown enum values as they are', () => {
    expect(formatValue(true, 'bool', 'zh', zh).text).toBe('是');
    expect(formatValue('heating', 'enum', 'zh', zh).text).toBe('制热');
    expect(formatValue('charging', 'enum', 'en', en).text).toBe('charging');
    expect(formatValue('warp_drive', 'enum', 'zh', zh).text).toBe('warp_drive');
    expect(formatValue(null, 'W', 'en', en)).toEqual({ text: '–', unit: '' });
  });

  it('shows SPF as a plain factor, other ratios as percentages', () => {
    expect(kpiUnit('heat_pump_spf', 'ratio')).toBe('factor');
    expect(kpiUnit('self_sufficiency', 'ratio')).toBe('ratio');
  });

  it('writes KPI units in the page language', () => {
    expect(formatWithUnit(118, 'L/person/day', 'zh', zh)).toBe('118 L/人·天');
    expect(formatWithUnit(118, 'L/person/day', 'en', en)).toBe('118 L/person/day');
  });
});

describe('durations and times', () => {
  it.each([
    [272, 'en', '4 min 32 s'],
    [272, 'zh', '4分32秒'],
    [300, 'en', '5 min'],
    [3.25, 'en', '3.3 s'],
    [0.5, 'zh', '0.50秒'],
    [7_500, 'zh', '2小时5分'],
    [200_000, 'en', '2 d 7 h'],
    [1800, 'zh', '30分'],
  ])('%d s in %s is %s', (s, lang, text) => {
    expect(formatDuration(s, lang)).toBe(text);
  });

  it('says how long ago', () => {
    expect(formatAgo(1_000, 1_500, 'en')).toBe('just now');
    expect(formatAgo(0, 3_900, 'en')).toBe('3 s ago');
    expect(formatAgo(0, 125_000, 'zh')).toBe('2分5秒前');
  });

  it('shows clock times in the site time zone', () => {
    const ts = Date.UTC(2025, 0, 15, 4, 5, 6);
    expect(formatTime(ts, 'en', 'Asia/Shanghai')).toBe('12:05:06');
    expect(formatTime(ts, 'en', 'UTC')).toBe('04:05:06');
  });

  it('finds local midnight in the site time zone', () => {
    const ts = Date.UTC(2025, 0, 15, 20, 0, 0); // 04:00 on the 16th in Shanghai
    expect(tzOffset(ts, 'Asia/Shanghai')).toBe(8 * 3_600_000);
    expect(startOfDay(ts, 'Asia/Shanghai')).toBe(Date.UTC(2025, 0, 15, 16, 0, 0));
    expect(startOfDay(ts, 'UTC')).toBe(Date.UTC(2025, 0, 15));
    // A DST day: Berlin on 2025-03-30 starts at 23:00 UTC the day before (UTC+1).
    expect(startOfDay(Date.UTC(2025, 2, 30, 12), 'Europe/Berlin')).toBe(Date.UTC(2025, 2, 29, 23));
  });
});

describe('quality', () => {
  it('gives stale and bad values their own look', () => {
    expect(qualityClass('good')).toBe('q-good');
    expect(qualityClass('uncertain', 'counter_reset')).toBe('q-uncertain');
    expect(qualityClass('uncertain', 'stale')).toBe('q-stale');
    expect(qualityClass('bad', 'stale')).toBe('q-bad');
    expect(qualityClass('bad', 'decode_error')).toBe('q-bad');
    expect(qualityClass(undefined)).toBe('q-unknown');
  });

  it('takes nearest-rank percentiles', () => {
    expect(percentile([], 95)).toBeUndefined();
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 95)).toBe(95);
  });
});
