import { describe, expect, it } from 'vitest';
import { departures } from '../../../drivers/gtfs-rt/board.js';
import { CsvError, gtfsTime, parseCsv } from '../../../drivers/gtfs-rt/csv.js';
import { serviceDay } from '../../../drivers/gtfs-rt/service-day.js';
import { GtfsStaticError, loadSchedule } from '../../../drivers/gtfs-rt/static-gtfs.js';

const rows = (text: string) => {
  const out: Record<string, string>[] = [];
  parseCsv(text, (r) => out.push({ ...r }));
  return out;
};

describe('GTFS CSV', () => {
  it('reads a BOM, quoted fields with commas, doubled quotes and line breaks, CRLF, blank lines and a last line without its end', () => {
    const text = '\uFEFFstop_id, stop_name ,stop_desc\r\nA,"East Gate, north","say ""hi"""\r\n\r\nB,"two\nlines",\nC,plain,x';
    expect(rows(text)).toEqual([
      { stop_id: 'A', stop_name: 'East Gate, north', stop_desc: 'say "hi"' },
      { stop_id: 'B', stop_name: 'two\nlines', stop_desc: '' },
      { stop_id: 'C', stop_name: 'plain', stop_desc: 'x' },
    ]);
  });

  it('refuses a quote that never closes, with its line', () => {
    expect(() => rows('a,b\n1,2\n3,"open\n')).toThrow(new CsvError('line 3: a quoted field is never closed'));
  });

  it('reads GTFS times past midnight and refuses others', () => {
    expect(gtfsTime('25:05:00')).toBe(25 * 3600 + 300);
    expect(gtfsTime('8:00:00')).toBe(8 * 3600);
    for (const bad of ['08:60:00', '08:00', 'x', '']) expect(gtfsTime(bad)).toBeUndefined();
  });
});

describe('static schedule', () => {
  const files: Record<string, string> = {
    'stops.txt': 'stop_id,stop_name\nS,Stop\n',
    'routes.txt': 'route_id,route_short_name\nR,1\n',
    'trips.txt': 'route_id,service_id,trip_id\nR,SUN,late\nR,MON,early\n',
    'stop_times.txt': 'trip_id,arrival_time,departure_time,stop_id,stop_sequence\nlate,24:30:00,24:30:00,S,1\nearly,06:00:00,06:00:00,S,1\n',
    'calendar.txt': 'service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\nSUN,0,0,0,0,0,0,1,20240101,20241231\nMON,1,0,0,0,0,0,0,20240101,20241231\n',
    'calendar_dates.txt': 'service_id,date,exception_type\nMON,20240311,2\n',
  };
  const read = async (f: string) => files[f];

  it('puts a trip past 24:00 on the next morning of its service day, and honours removed dates', async () => {
    const s = await loadSchedule(read, new Set(['S']));
    const on = (local: string) => departures(s, 'Asia/Shanghai', { stops: ['S'], routes: [] }, new Map(), Date.parse(`${local}T00:00:00+08:00`), Date.parse(`${local}T23:59:59+08:00`)).map((d) => [d.trip, new Date(d.time).toISOString()]);
    // Monday 4 March: Sunday's 24:30 trip at 00:30, then Monday's own.
    expect(on('2024-03-04')).toEqual([
      ['late', '2024-03-03T16:30:00.000Z'],
      ['early', '2024-03-03T22:00:00.000Z'],
    ]);
    // Monday 11 March is removed from MON by calendar_dates.
    expect(on('2024-03-11')).toEqual([['late', '2024-03-10T16:30:00.000Z']]);
  });

  it('says which file or stop is missing', async () => {
    await expect(loadSchedule(read, new Set(['S', 'NOPE']))).rejects.toThrow(new GtfsStaticError('stops.txt has no stop_id "NOPE"'));
    await expect(loadSchedule(async (f) => (f === 'trips.txt' ? undefined : files[f]), new Set(['S']))).rejects.toThrow('the static feed has no trips.txt');
  });

  it('finds the service day in the feed zone', () => {
    expect(serviceDay('Asia/Shanghai', Date.parse('2024-03-03T16:30:00Z'))).toEqual({ date: '20240304', weekday: 1, zero: Date.parse('2024-03-04T00:00:00+08:00') });
    // A daylight-saving day: GTFS time 0 is noon minus 12 h, 23:00 the evening before.
    expect(serviceDay('America/New_York', Date.parse('2024-03-10T15:00:00Z')).zero).toBe(Date.parse('2024-03-09T23:00:00-05:00'));
  });
});
