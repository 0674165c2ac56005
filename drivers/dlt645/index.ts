import { BusLink } from '../core/bus-link.js';
import { busGolden } from '../core/golden-bus.js';
import { busFromRecording, recordBus } from '../core/record-bus.js';
import { busConnectionSchema, busEndpoint, busOptions, busSettings, type BusConnection } from '../core/bus-config.js';
import type { DriverFactory } from '../core/driver.js';
import { MeterBusDriver } from '../core/meter-bus-driver.js';
import type { Loaded } from '../profiles/schema.js';
import { checkDlt645, checkDlt645Profile, dlt645PointFacts } from './checks.js';
import { Dlt645Device } from './device.js';
import { findAddress } from '../core/find-address.js';
import { addressReply, LAYOUT, readAddressRequest, scan } from './frame.js';
import { dlt645ProfileSchema, type Dlt645Profile } from './profile-schema.js';

export { dlt645ProfileSchema, type Dlt645Profile } from './profile-schema.js';

/**
 * DL/T 645 (2007 and 1997) electricity meters on an RS-485 bus: a serial port or a serial-device
 * server in transparent TCP mode. One request at a time per bus; a silent meter is quarantined.
 */
export const dlt645DriverFactory: DriverFactory<BusConnection, Loaded<Dlt645Profile>> = {
  protocols: ['dlt645'],
  connectionSchema: busConnectionSchema('dlt645') as unknown as DriverFactory<BusConnection>['connectionSchema'],
  profileProtocol: 'dlt645',
  profileSchema: dlt645ProfileSchema,
  checkProfile: checkDlt645Profile,
  check: checkDlt645,
  pointFacts: (p) => dlt645PointFacts(p),
  golden: (profile, doc) => busGolden(profile, doc, LAYOUT, (c, p) => new Dlt645Device(c, p)),
  record: (args) => recordBus(args, (c, p) => new Dlt645Device(c, p)),
  fromRecording: (_profile, rec) => busFromRecording(rec),
  create({ connection, devices, ctx }) {
    const link = new BusLink(busEndpoint(connection), { ...busOptions(connection), onBadFrame: (reason) => ctx.metrics.linkError(reason) }, ctx.log);
    const meters = devices
      .filter((d) => d.config.enabled)
      .map((d) => new Dlt645Device({ id: d.config.id, class: d.config.class, address: d.config.address ?? '', poll: d.config.poll, options: d.config.options }, d.profile));
    return new MeterBusDriver(connection.id, 'dlt645', link, meters, busSettings(connection), ctx);
  },
  findAddress({ connection, log }) {
    // C = 0x13 to AA×6: "read communication address", answered only by a lone meter.
    return findAddress(connection, readAddressRequest(), { scan, match: (f) => { const a = addressReply(f); return a ? { ok: true, value: a } : { ok: false, why: 'not an address reply' }; } }, log);
  },
};
