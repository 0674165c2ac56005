/**
 * The metric catalog of spec/metrics.md, as data. Only these classes, metrics and
 * events leave the pipeline. Extend it here (and in the spec) when a real device needs it.
 */

export const CATALOG_UNITS = ['W', 'Wh', '°C', 'm³', 'm³/h', '%', 's', 'count', 'bool', 'enum'] as const;
export type CatalogUnit = (typeof CATALOG_UNITS)[number];

export type MetricKind = 'gauge' | 'counter' | 'state';

export interface MetricDef {
  kind: MetricKind;
  unit: CatalogUnit;
  /** Allowed values of an enum state. */
  values?: readonly string[];
  /** Physically plausible range; outside it a value is flagged `out_of_range`. */
  min?: number;
  max?: number;
  description: string;
  /** What a device can physically produce (gateway/pipeline/plausibility.ts); beyond it: `implausible`. */
  plausible?: PlausibleDef;
}

/**
 * Plausibility bounds of a metric. A gauge is bounded by the device's rated power (its nameplate
 * fact `rated_power`, or the device option `rated_power`) times `ratedFactor`, else by `max`; a
 * counter's step by that power (per hour, in the counter's unit) times the time elapsed, else by
 * `maxRate`. `margin` (fraction) is the headroom before a value is called implausible; per device,
 * the options `rated_power` and `plausibility_margin` override.
 */
export interface PlausibleDef {
  /** Bounded by the device's rated power × this factor (gauges: |value|; counters: rate). */
  ratedFactor?: number;
  /** Without a rating: the largest |value| any device of the class in a community produces. */
  max?: number;
  /** Without a rating, counters: the largest rate, in the counter's unit per hour. */
  maxRate?: number;
  margin?: number;
}

/** Facts a device reports about itself (nameplate), in catalog units: plausibility input, never samples. */
export const DEVICE_FACTS: Readonly<Record<string, CatalogUnit>> = { rated_power: 'W' };

export interface EventAttributeDef {
  type: 'string' | 'number' | 'bool';
  /** Personal data: replaced by a keyed pseudonym before anything is stored, logged or forwarded. */
  pii?: boolean;
  optional?: boolean;
}

export interface EventDef {
  description: string;
  attributes: Record<string, EventAttributeDef>;
  /** Set on an event this product adds beyond `spec/metrics.md`, with the reason (as for a class). */
  beyondSpec?: string;
}

export interface ClassDef {
  description: string;
  metrics: Record<string, MetricDef>;
  events: Record<string, EventDef>;
  /**
   * Set on a class this product adds beyond `spec/metrics.md`, with the reason. The catalog test
   * holds every other class to the spec row by row; a proposed class waits here until the spec
   * takes it in.
   */
  beyondSpec?: string;
}

const gauge = (unit: CatalogUnit, description: string, range: { min?: number; max?: number } = {}): MetricDef => ({
  kind: 'gauge',
  unit,
  description,
  ...range,
});
const counter = (unit: CatalogUnit, description: string): MetricDef => ({ kind: 'counter', unit, description, min: 0 });
const flag = (description: string): MetricDef => ({ kind: 'state', unit: 'bool', description });
const choice = (values: readonly string[], description: string): MetricDef => ({
  kind: 'state',
  unit: 'enum',
  values,
  description,
});
/** Power and energy bounded by the nameplate; without one, by what the class can reach (`max`, W). */
// The fallbacks are generous on purpose (a central inverter, a community's grid connection): they
// catch a decoding error or a corrupt register (10⁹ Wh in one poll), not a mis-sized device.
const rated = (d: MetricDef, max: number, ratedFactor = 1): MetricDef => ({
  ...d,
  plausible: d.kind === 'counter' ? { ratedFactor, maxRate: max } : { ratedFactor, max },
});
/** A physical bound without a rating (flows, heat): |value| or, for a counter, its rate per hour. */
const bounded = (d: MetricDef, max: number): MetricDef => ({ ...d, plausible: d.kind === 'counter' ? { maxRate: max } : { max } });
const pct = (description: string): MetricDef => gauge('%', description, { min: 0, max: 100 });
const temp = (description: string): MetricDef => gauge('°C', description, { min: -60, max: 150 });

const str = { type: 'string' } as const;
const pii = { type: 'string', pii: true } as const;
const bool = { type: 'bool' } as const;
const num = { type: 'number' } as const;

export const CATALOG: Readonly<Record<string, ClassDef>> = {
  pv_inverter: {
    description: 'PV inverter',
    metrics: {
      ac_power: rated(gauge('W', 'AC output power', { min: 0 }), 5e6),
      energy_total: rated(counter('Wh', 'lifetime AC energy produced'), 5e6),
      // DC arrays are often 1.3–1.5 × the AC rating.
      dc_power: rated(gauge('W', 'DC input power', { min: 0 }), 7.5e6, 1.5),
      state: choice(
        ['off', 'sleeping', 'starting', 'mppt', 'throttled', 'shutting_down', 'fault', 'standby'],
        'operating state',
      ),
    },
    events: {},
  },
  battery: {
    description: 'battery energy storage',
    metrics: {
      power: rated(gauge('W', '+ charging, − discharging'), 5e6),
      soc: pct('state of charge'),
      soh: pct('state of health'),
      charged_total: rated(counter('Wh', 'energy charged'), 5e6),
      discharged_total: rated(counter('Wh', 'energy discharged'), 5e6),
      capacity: gauge('Wh', 'rated usable energy', { min: 0 }),
      state: choice(['off', 'empty', 'discharging', 'charging', 'full', 'holding', 'fault'], 'operating state'),
    },
    events: {},
  },
  grid_meter: {
    description: "the community's point of connection, or a sub-meter",
    metrics: {
      power: rated(gauge('W', '+ import from grid, − export to grid'), 5e7),
      import_total: rated(counter('Wh', 'energy imported'), 5e7),
      export_total: rated(counter('Wh', 'energy exported'), 5e7),
    },
    events: {},
  },
  heat_pump: {
    description: 'heat pump',
    metrics: {
      electric_power: rated(gauge('W', 'electrical input power', { min: 0 }), 2e6),
      thermal_power: bounded(gauge('W', 'heat (or cold) delivered'), 1e7),
      electric_total: rated(counter('Wh', 'electrical energy consumed'), 2e6),
      thermal_total: bounded(counter('Wh', 'thermal energy delivered'), 1e7),
      supply_temp: temp('supply (flow) temperature'),
      return_temp: temp('return temperature'),
      outdoor_temp: temp('outdoor temperature'),
      dhw_temp: temp('domestic hot water temperature'),
      mode: choice(['off', 'standby', 'heating', 'cooling', 'dhw', 'defrost'], 'operating mode'),
      sg_ready: choice(['lock', 'normal', 'recommend', 'force_on'], 'SG Ready state (1–4)'),
    },
    events: {},
  },
  thermal_storage: {
    description: 'thermal storage tank (储热 / 储冷)',
    metrics: {
      top_temp: temp('temperature at the top of the tank'),
      bottom_temp: temp('temperature at the bottom of the tank'),
      stored_energy: gauge('Wh', 'energy stored above the reference temperature'),
    },
    events: {},
  },
  heat_meter: {
    description: 'heat meter (热量表): heat delivered by an energy station or to a building',
    metrics: {
      thermal_power: bounded(gauge('W', 'heat flow'), 5e7),
      thermal_total: bounded(counter('Wh', 'heat delivered'), 5e7),
      supply_temp: temp('supply (flow) temperature'),
      return_temp: temp('return temperature'),
      flow: bounded(gauge('m³/h', 'water flow'), 2000),
    },
    events: {},
  },
  ev_charger: {
    description: 'EV charger (OCPP 1.6 semantics)',
    metrics: {
      status: choice(
        [
          'available',
          'preparing',
          'charging',
          'suspended_evse',
          'suspended_ev',
          'finishing',
          'reserved',
          'unavailable',
          'faulted',
        ],
        'OCPP 1.6 connector status',
      ),
      power: rated(gauge('W', 'charging power', { min: 0 }), 1e6),
      energy_total: rated(counter('Wh', 'energy delivered (Energy.Active.Import.Register)'), 1e6),
    },
    events: {
      // The id tag (an RFID card) is a credential: personal data, pseudonymised like a door's.
      charging_started: {
        description: 'a charging session began (OCPP StartTransaction accepted)',
        attributes: { credential: pii, connector: num, transaction: str, meter_start: num },
        beyondSpec: 'charging sessions from OCPP transactions (issue 20): session energy per charger',
      },
      charging_stopped: {
        description: 'a charging session ended (OCPP StopTransaction); energy in Wh',
        attributes: { credential: { ...pii, optional: true }, connector: num, transaction: str, energy: num, reason: { ...str, optional: true } },
        beyondSpec: 'charging sessions from OCPP transactions (issue 20): session energy per charger',
      },
    },
  },
  parking_space: {
    description: 'one parking space with an occupancy sensor',
    metrics: {
      occupied: flag('a vehicle is in the space'),
      has_charger: flag('the space has a charger (static, from config)'),
    },
    events: {},
  },
  parking_garage: {
    description: 'barrier gates and the automated / shared garage system',
    metrics: {
      spaces_total: gauge('count', 'spaces in the garage', { min: 0 }),
      spaces_free: gauge('count', 'free spaces', { min: 0 }),
    },
    events: {
      vehicle_entry: {
        description: 'a vehicle passed an entry gate',
        attributes: { vehicle: pii, gate: str, resident: { ...bool, optional: true } },
      },
      vehicle_exit: {
        description: 'a vehicle passed an exit gate',
        attributes: { vehicle: pii, gate: str, resident: { ...bool, optional: true } },
      },
      retrieval_requested: {
        description: 'a resident asked the automated garage for their car',
        attributes: { vehicle: pii, request_id: str },
      },
      retrieval_completed: {
        description: 'the car was handed over',
        attributes: { vehicle: pii, request_id: str },
      },
      barrier_opened: { description: 'a barrier arm opened on a command (a visitor let in)', beyondSpec: 'a gate confirms a command (issue 18)', attributes: { gate: str, request_id: { ...str, optional: true } } },
      barrier_closed: { description: 'a barrier arm closed again', beyondSpec: 'a gate confirms a command (issue 18)', attributes: { gate: str } },
    },
  },
  parcel_locker: {
    description: 'parcel lockers and the community logistics platform',
    metrics: {
      compartments_total: gauge('count', 'compartments in the bank', { min: 0 }),
      compartments_occupied: gauge('count', 'compartments holding a parcel', { min: 0 }),
    },
    events: {
      parcel_arrived: { description: 'reached the community logistics point', attributes: { parcel: pii } },
      parcel_deposited: {
        description: 'put into a locker compartment',
        attributes: { parcel: pii, compartment: str },
      },
      parcel_picked_up: {
        description: 'collected by the resident from the locker',
        attributes: { parcel: pii, compartment: str },
      },
      parcel_delivered: { description: 'handed over at the door', attributes: { parcel: pii } },
      compartment_fault: { description: 'a compartment reported a fault', attributes: { compartment: str } },
      compartment_unlocked: { description: 'a compartment was unlocked on a command', beyondSpec: 'a locker confirms a command (issue 18)', attributes: { compartment: str, request_id: { ...str, optional: true } } },
    },
  },
  access_door: {
    description: 'access-control door',
    metrics: { door_open: flag('the door is open') },
    events: {
      access_granted: { description: 'access granted', attributes: { credential: pii, method: str } },
      access_denied: { description: 'access denied', attributes: { credential: pii, method: str } },
      door_forced: { description: 'door opened without a grant', attributes: {} },
      door_held_open: { description: 'door held open too long', attributes: {} },
    },
  },
  transit_stop: {
    description: 'a public transport stop serving the community, read from a GTFS-Realtime feed (a departure board)',
    beyondSpec: 'the 10-minute transit circle (issue 21): live departures and service availability at the community\'s stops',
    metrics: {
      next_departure: gauge('s', 'time until the next departure (predicted)', { min: 0 }),
      following_departure: gauge('s', 'time until the departure after it (predicted)', { min: 0 }),
      delay: gauge('s', 'delay of the next departure (+ late, − early)', { min: -3600, max: 86_400 }),
      service_status: choice(['normal', 'delayed', 'disrupted', 'no_service'], 'service at the stop: delayed next departure, an alert or cancellation, nothing within the horizon'),
    },
    events: {
      departure: {
        description: 'a scheduled departure passed: ran (departure_delay in s; not `delay`, which is the metric in the same InfluxDB measurement), was cancelled or skipped, or is unknown (no live feed then)',
        attributes: { trip: str, route: str, line: str, scheduled: num, departure_delay: { ...num, optional: true }, status: str },
      },
      trip_cancelled: {
        description: 'the feed cancelled an upcoming departure (the trip, or its call at this stop)',
        attributes: { trip: str, route: str, line: str, scheduled: num },
      },
      service_alert: {
        description: 'a service alert for the stop or its lines became active',
        attributes: { alert: str, effect: str, cause: str, header: str },
      },
    },
  },
  water_meter: {
    description: 'water meter (potable, reclaimed, rain, hot)',
    metrics: {
      volume_total: bounded(counter('m³', 'forward volume'), 2000),
      reverse_total: bounded(counter('m³', 'backflow volume'), 2000),
      flow: bounded(gauge('m³/h', 'flow rate'), 2000),
      leak: flag('leak alarm'),
      burst: flag('burst alarm'),
      backflow: flag('backflow alarm'),
      dry: flag('pipe empty alarm'),
      tamper: flag('tamper alarm'),
      low_battery: flag('low battery alarm'),
    },
    events: {},
  },
};

export const DEVICE_CLASSES = Object.keys(CATALOG);

/** Static device tags with a meaning of their own. */
export const WATER_TYPES = ['potable', 'reclaimed', 'rainwater', 'hot'] as const;

/** Attribute names that are personal data wherever they appear (plates, cards, faces, phones, tracking numbers). */
export const PII_ATTRIBUTE_NAMES: ReadonlySet<string> = new Set(
  Object.values(CATALOG).flatMap((c) =>
    Object.values(c.events).flatMap((e) =>
      Object.entries(e.attributes)
        .filter(([, a]) => a.pii)
        .map(([n]) => n),
    ),
  ),
);

// Own keys only: names arrive from devices, and "constructor" or "toString" must not find
// Object.prototype's members.
export function metricDef(cls: string, metric: string): MetricDef | undefined {
  const c = Object.hasOwn(CATALOG, cls) ? CATALOG[cls] : undefined;
  return c && Object.hasOwn(c.metrics, metric) ? c.metrics[metric] : undefined;
}

export function eventDef(cls: string, type: string): EventDef | undefined {
  const c = Object.hasOwn(CATALOG, cls) ? CATALOG[cls] : undefined;
  return c && Object.hasOwn(c.events, type) ? c.events[type] : undefined;
}
