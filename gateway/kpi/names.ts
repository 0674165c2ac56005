/** The KPIs of spec/kpis.md: names, scene and unit. Definitions live beside this file. */
export type Scene = 'low_carbon' | 'transport' | 'service';

export interface KpiInfo {
  scene: Scene;
  unit: string;
  description: string;
}

export const KPIS: Readonly<Record<string, KpiInfo>> = {
  pv_generation: { scene: 'low_carbon', unit: 'Wh', description: 'PV energy produced' },
  grid_import: { scene: 'low_carbon', unit: 'Wh', description: 'energy imported from the grid' },
  grid_export: { scene: 'low_carbon', unit: 'Wh', description: 'energy exported to the grid' },
  battery_charge: { scene: 'low_carbon', unit: 'Wh', description: 'energy charged into storage' },
  battery_discharge: { scene: 'low_carbon', unit: 'Wh', description: 'energy discharged from storage' },
  community_load: { scene: 'low_carbon', unit: 'Wh', description: 'energy used by the community' },
  self_consumption: { scene: 'low_carbon', unit: 'ratio', description: 'share of PV energy used on site' },
  self_sufficiency: { scene: 'low_carbon', unit: 'ratio', description: 'share of load not imported' },
  battery_round_trip_efficiency: { scene: 'low_carbon', unit: 'ratio', description: 'storage efficiency' },
  battery_equivalent_cycles: { scene: 'low_carbon', unit: 'cycles', description: 'full cycles of storage' },
  heat_pump_spf: { scene: 'low_carbon', unit: 'ratio', description: 'seasonal performance factor' },
  peak_demand: { scene: 'low_carbon', unit: 'W', description: 'highest 15-minute mean import' },
  carbon_emissions: { scene: 'low_carbon', unit: 'kgCO2', description: 'emissions of imported energy' },
  carbon_avoided: { scene: 'low_carbon', unit: 'kgCO2', description: 'emissions displaced by PV' },
  carbon_intensity: { scene: 'low_carbon', unit: 'kgCO2/kWh', description: 'emissions per kWh used' },
  water_per_capita: { scene: 'low_carbon', unit: 'L/person/day', description: 'potable water per resident' },
  non_traditional_water_ratio: { scene: 'low_carbon', unit: 'ratio', description: 'reclaimed + rain share' },
  water_loss_ratio: { scene: 'low_carbon', unit: 'ratio', description: 'master minus sub-meters' },
  night_flow_leak: { scene: 'low_carbon', unit: 'meters', description: 'meters with night flow above threshold' },
  car_retrieval_time_p95: { scene: 'transport', unit: 's', description: 'p95 car retrieval time' },
  car_retrieval_within_5min: { scene: 'transport', unit: 'ratio', description: 'retrievals within 300 s' },
  parking_occupancy: { scene: 'transport', unit: 'ratio', description: 'occupied share of space-time' },
  parking_turnover: { scene: 'transport', unit: 'entries/space/day', description: 'entries per space per day' },
  parking_free_spaces_min: { scene: 'transport', unit: 'count', description: 'fewest free spaces seen' },
  charging_provision: { scene: 'transport', unit: 'ratio', description: 'spaces with a charger' },
  charger_utilisation: { scene: 'transport', unit: 'ratio', description: 'time charging / time available' },
  parcel_to_door_time_p95: { scene: 'transport', unit: 's', description: 'p95 parcel arrival to resident' },
  parcel_within_30min: { scene: 'transport', unit: 'ratio', description: 'parcels within 1800 s' },
  parcels_overdue: { scene: 'transport', unit: 'count', description: 'deposited, not picked up after 48 h' },
  locker_occupancy: { scene: 'transport', unit: 'ratio', description: 'max compartments occupied share' },
  // Beyond spec/kpis.md (issue 21): the 10-minute transit circle and shared parking.
  transit_access_10min: { scene: 'transport', unit: 'ratio', description: 'households within 10 min walk of a served stop' },
  transit_walk_time_p95: { scene: 'transport', unit: 's', description: 'p95 household walk to the nearest served stop' },
  transit_service_availability: { scene: 'transport', unit: 'ratio', description: 'scheduled departures at the stops that ran' },
  shared_parking_utilisation: { scene: 'transport', unit: 'ratio', description: 'occupied share of shared spaces in sharing windows' },
  access_denied_rate: { scene: 'service', unit: 'ratio', description: 'denied / all access decisions' },
  door_forced_count: { scene: 'service', unit: 'count', description: 'doors forced' },
  door_held_open_count: { scene: 'service', unit: 'count', description: 'doors held open' },
};

export const KPI_NAMES = Object.keys(KPIS);
export const KPI_WINDOWS = ['15m', 'hour', 'day', 'week', 'month', 'year'] as const;
export type KpiWindow = (typeof KPI_WINDOWS)[number];
