import type { DriverFactory } from '../core/driver.js';
import type { Loaded } from '../profiles/schema.js';
import { checkOcpp, checkOcppProfile, ocppPointFacts } from './checks.js';
import { ocppConnectionSchema, type OcppConnection } from './connection-schema.js';
import { OcppDriver } from './driver.js';
import { ocppProfileSchema, type OcppProfile } from './profile-schema.js';

export { OcppDriver } from './driver.js';
export { ocppConnectionSchema, type OcppConnection } from './connection-schema.js';
export { ocppProfileSchema, type OcppProfile } from './profile-schema.js';

/** OCPP-J (1.6) chargers: the gateway is their central system, listening for their WebSockets. */
export const ocppDriverFactory: DriverFactory<OcppConnection, Loaded<OcppProfile>> = {
  protocols: ['ocpp'],
  connectionSchema: ocppConnectionSchema,
  profileProtocol: 'ocpp',
  profileSchema: ocppProfileSchema,
  discovers: true,
  checkProfile: checkOcppProfile,
  check: checkOcpp,
  pointFacts: (p) => ocppPointFacts(p),
  create({ connection, devices, discover, profiles, ctx }) {
    return new OcppDriver({ connection, devices, discover, profiles, ctx });
  },
};
