import GtfsRealtimeBindings from 'gtfs-realtime-bindings';
import { serviceDay } from '../../drivers/gtfs-rt/service-day.js';
import type { TransitScenario } from './schema.js';
import type { SimTrip } from './timetable.js';

const rt = GtfsRealtimeBindings.transit_realtime;

/** How far back and ahead the feed reports trips (agencies drop trips soon after they ran). */
const BACK_MS = 2 * 3_600_000;
const AHEAD_MS = 4 * 3_600_000;

export interface SimDeparture {
  trip: SimTrip;
  serviceDate: string;
  /** Scheduled departure at the community's stop, epoch ms. */
  scheduled: number;
}

/** Every run of the timetable with a scheduled departure in [from, to). */
export function runsBetween(trips: readonly SimTrip[], tz: string, from: number, to: number): SimDeparture[] {
  const out: SimDeparture[] = [];
  for (let d = -1; ; d++) {
    const day = serviceDay(tz, from, d);
    if (day.zero >= to) break;
    for (const trip of trips) {
      const scheduled = day.zero + trip.time * 1000;
      if (scheduled >= from && scheduled < to) out.push({ trip, serviceDate: day.date, scheduled });
    }
  }
  return out.sort((a, b) => a.scheduled - b.scheduled);
}

/** The TripUpdates FeedMessage at `now`, encoded with the official bindings. */
export function tripUpdates(trips: readonly SimTrip[], tz: string, now: number): Uint8Array {
  const entity = runsBetween(trips, tz, now - BACK_MS, now + AHEAD_MS).map(({ trip, serviceDate }) => ({
    id: `${serviceDate}-${trip.id}`,
    tripUpdate: trip.cancelled
      ? { trip: { tripId: trip.id, routeId: trip.line, startDate: serviceDate, scheduleRelationship: rt.TripDescriptor.ScheduleRelationship.CANCELED } }
      : { trip: { tripId: trip.id, routeId: trip.line, startDate: serviceDate }, stopTimeUpdate: [{ stopSequence: 2, stopId: trip.stop, departure: { delay: trip.delay } }] },
  }));
  return encode(now, entity);
}

export function alerts(sc: TransitScenario, now: number): Uint8Array {
  const a = sc.alert;
  if (!a) return encode(now, []);
  return encode(now, [
    {
      id: `alert-${a.line}`,
      alert: {
        informedEntity: [{ routeId: a.line }],
        effect: rt.Alert.Effect[a.effect],
        cause: rt.Alert.Cause.CONSTRUCTION,
        headerText: { translation: [{ text: a.header_zh, language: 'zh' }, { text: a.header_en, language: 'en' }] },
      },
    },
  ]);
}

function encode(now: number, entity: GtfsRealtimeBindings.transit_realtime.IFeedEntity[]): Uint8Array {
  return rt.FeedMessage.encode(rt.FeedMessage.fromObject({ header: { gtfsRealtimeVersion: '2.0', incrementality: 0, timestamp: Math.floor(now / 1000) }, entity })).finish();
}
