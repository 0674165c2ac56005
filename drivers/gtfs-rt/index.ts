import type { DriverFactory } from '../core/driver.js';
import type { Loaded } from '../profiles/schema.js';
import { checkGtfsRt, checkGtfsRtProfile, gtfsRtPointFacts } from './checks.js';
import { gtfsRtConnectionSchema, type GtfsRtConnection } from './connection-schema.js';
import { GtfsRtDriver } from './driver.js';
import { gtfsRtProfileSchema, type GtfsRtProfile } from './profile-schema.js';

export { GtfsRtDriver } from './driver.js';
export { gtfsRtConnectionSchema, type GtfsRtConnection } from './connection-schema.js';

/** GTFS-Realtime: departure boards of the community's transit stops, polled over HTTP. */
export const gtfsRtDriverFactory: DriverFactory<GtfsRtConnection, Loaded<GtfsRtProfile>> = {
  protocols: ['gtfs-rt'],
  connectionSchema: gtfsRtConnectionSchema,
  profileProtocol: 'gtfs-rt',
  profileSchema: gtfsRtProfileSchema,
  checkProfile: checkGtfsRtProfile,
  check: checkGtfsRt,
  pointFacts: (p) => gtfsRtPointFacts(p),
  create({ connection, devices, ctx }) {
    return new GtfsRtDriver({ connection, devices, ctx });
  },
};
