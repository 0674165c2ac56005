import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import GtfsRealtimeBindings from 'gtfs-realtime-bindings';
import pino from 'pino';
import type { DriverContext } from '../../../drivers/core/driver.js';
import type { Clock } from '../../../gateway/model/clock.js';
import type { EventReading, Reading, Rejection } from '../../../gateway/model/types.js';

/** A static GTFS feed as agencies publish it, a feed server on loopback, and a driver context that keeps what it gets. */

export const rt = GtfsRealtimeBindings.transit_realtime;
export const at = (local: string) => Date.parse(`${local}+08:00`);

/**
 * Monday 4 March 2024, Asia/Shanghai. Line 12 (route R12) calls at UP (sequence 1) then at the
 * community's east gate EG1 (sequence 3) every 10 minutes from 08:00 to 08:50 (trips T1–T6);
 * line K5 calls at EG2 at 08:05 (T7). A weekend trip (T9, 24:30:00 on Sunday = Monday 00:30)
 * must not appear on Monday evening's board. stops.txt starts with a byte order mark and quotes a
 * name holding a comma; trips.txt ends its lines in CRLF.
 */
export function writeStatic(dir: string): void {
  writeFileSync(join(dir, 'agency.txt'), 'agency_id,agency_name,agency_url,agency_timezone\nHZ,杭州公交,https://example.invalid,Asia/Shanghai\n');
  writeFileSync(join(dir, 'stops.txt'), '\uFEFFstop_id,stop_name,stop_lat,stop_lon\nUP,Upstream,30.26,120.14\nEG1,"Lianhua East Gate, north side",30.2700,120.1500\nEG2,"莲花东门 ""南""",30.2699,120.1501\n');
  writeFileSync(join(dir, 'routes.txt'), 'route_id,agency_id,route_short_name,route_long_name,route_type\nR12,HZ,12,"Lianhua - Station",3\nK5,HZ,K5,,3\n');
  const trips = ['route_id,service_id,trip_id,trip_headsign', ...[1, 2, 3, 4, 5, 6].map((i) => `R12,WK,T${i},火车东站`), 'K5,WK,T7,"Xixi, Wetland"', 'R12,WE,T9,火车东站'];
  writeFileSync(join(dir, 'trips.txt'), trips.join('\r\n') + '\r\n');
  const st = ['trip_id,arrival_time,departure_time,stop_id,stop_sequence'];
  const hhmm = (min: number) => `${String(Math.floor(min / 60)).padStart(2, '0')}:${String(min % 60).padStart(2, '0')}:00`;
  for (let i = 1; i <= 6; i++) {
    const eg = 8 * 60 + (i - 1) * 10;
    st.push(`T${i},${hhmm(eg - 10)},${hhmm(eg - 10)},UP,1`, `T${i},${hhmm(eg)},${hhmm(eg)},EG1,3`);
  }
  st.push('T7,08:05:00,08:05:00,EG2,1', 'T9,24:30:00,24:30:00,EG1,3');
  writeFileSync(join(dir, 'stop_times.txt'), st.join('\n'));
  writeFileSync(join(dir, 'calendar.txt'), 'service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\nWK,1,1,1,1,1,0,0,20240101,20241231\nWE,0,0,0,0,0,1,1,20240101,20241231\n');
}

/** A feed server whose body the test sets: a FeedMessage, raw bytes, or an HTTP status. */
export class FeedServer {
  body: Uint8Array | { status: number } = new Uint8Array();
  /** Send the body in chunks without a Content-Length (the driver must count what arrives). */
  chunked = false;
  requests = 0;
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.requests++;
      const b = this.body;
      if ('status' in b) {
        res.writeHead(b.status).end();
        return;
      }
      if (!this.chunked) {
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(Buffer.from(b));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'transfer-encoding': 'chunked' });
      for (let i = 0; i < b.byteLength; i += 512) res.write(Buffer.from(b.subarray(i, i + 512)));
      res.end();
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/gtfs-rt/trip-updates`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }
}

/** Encode a FeedMessage with the GTFS-Realtime project's bindings (never our decoder's code). */
export function encodeFeed(ts: number, entity: GtfsRealtimeBindings.transit_realtime.IFeedEntity[]): Uint8Array {
  const msg = rt.FeedMessage.fromObject({ header: { gtfsRealtimeVersion: '2.0', incrementality: 0, timestamp: Math.floor(ts / 1000) }, entity });
  return rt.FeedMessage.encode(msg).finish();
}

export interface Collected {
  ctx: DriverContext;
  readings: Reading[];
  events: EventReading[];
  rejections: Rejection[];
}

export function collect(clock: Clock): Collected {
  const readings: Reading[] = [];
  const events: EventReading[] = [];
  const rejections: Rejection[] = [];
  const ctx: DriverContext = {
    site: 'lianhua',
    clock,
    log: pino({ level: 'silent' }),
    dataDir: '/tmp',
    ingest: async (b) => {
      readings.push(...(b.readings ?? []));
      events.push(...(b.events ?? []));
    },
    reject: (r) => void rejections.push(r),
    metrics: { pollLatency: () => undefined, linkError: () => undefined, messages: () => undefined },
  };
  return { ctx, readings, events, rejections };
}
