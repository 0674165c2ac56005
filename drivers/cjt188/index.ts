import { BusLink } from '../core/bus-link.js';
import { busGolden } from '../core/golden-bus.js';
import { busFromRecording, recordBus } from '../core/record-bus.js';
import { busConnectionSchema, busEndpoint, busOptions, busSettings, type BusConnection } from '../core/bus-config.js';
import type { DriverFactory } from '../core/driver.js';
import { MeterBusDriver } from '../core/meter-bus-driver.js';
import type { Loaded } from '../profiles/schema.js';
import { checkCjt188, checkCjt188Profile, cjt188PointFacts } from './checks.js';
import { Cjt188Device } from './device.js';
import { findAddress } from '../core/find-address.js';
import { LAYOUT, METER_TYPE, readReply, readRequest, scan, WILDCARD_ADDRESS, type MeterType } from './frame.js';
import { cjt188ProfileSchema, type Cjt188Profile } from './profile-schema.js';

export { cjt188ProfileSchema, type Cjt188Profile } from './profile-schema.js';

/**
 * CJ/T 188-2004 water, heat and gas meters on an RS-485 bus: a serial port or a serial-device
 * server in transparent TCP mode. One request at a time per bus; a silent meter is quarantined.
 */
export const cjt188DriverFactory: DriverFactory<BusConnection, Loaded<Cjt188Profile>> = {
  protocols: ['cjt188'],
  connectionSchema: busConnectionSchema('cjt188') as unknown as DriverFactory<BusConnection>['connectionSchema'],
  profileProtocol: 'cjt188',
  profileSchema: cjt188ProfileSchema,
  checkProfile: checkCjt188Profile,
  check: checkCjt188,
  pointFacts: (p) => cjt188PointFacts(p),
  golden: (profile, doc) => busGolden(profile, doc, LAYOUT, (c, p) => new Cjt188Device({ id: c.id, address: c.address }, p)),
  record: (args) => recordBus(args, (c, p) => new Cjt188Device({ id: c.id, address: c.address }, p)),
  fromRecording: (_profile, rec) => busFromRecording(rec),
  create({ connection, devices, ctx }) {
    const link = new BusLink(busEndpoint(connection), { ...busOptions(connection), onBadFrame: (reason) => ctx.metrics.linkError(reason) }, ctx.log);
    const meters = devices
      .filter((d) => d.config.enabled)
      .map((d) => {
        const type = d.config.options['meter_type'];
        const profile = typeof type === 'string' && type in METER_TYPE ? { ...d.profile, meter_type: type as MeterType } : d.profile;
        return new Cjt188Device({ id: d.config.id, class: d.config.class, address: d.config.address ?? '', poll: d.config.poll }, profile);
      });
    return new MeterBusDriver(connection.id, 'cjt188', link, meters, busSettings(connection), ctx);
  },
  findAddress({ connection, log }) {
    // A metering-data read to AA×7 with meter type 0xAA (any type), as handheld readers do:
    // a lone meter answers with its own address and type.
    const request = readRequest({ type: 0xaa, address: WILDCARD_ADDRESS, seq: 0 });
    return findAddress(connection, request, { scan, match: (f) => { const r = readReply(f, { address: WILDCARD_ADDRESS }); return r.kind === 'data' ? { ok: true, value: r.address } : { ok: false, why: r.kind }; } }, log);
  },
};
