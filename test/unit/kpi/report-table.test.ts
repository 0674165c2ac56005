import { describe, expect, it } from 'vitest';
import { humanValue } from '../../../gateway/kpi/report-table.js';

describe('report values in the units people read', () => {
  it.each([
    ['pv_generation', 'Wh', 458_123, '458 kWh'],
    ['pv_generation', 'Wh', 12_345_678, '12.3 MWh'],
    ['grid_import', 'Wh', 850, '850 Wh'],
    ['peak_demand', 'W', 38_912, '38.9 kW'],
    ['self_sufficiency', 'ratio', 0.4374, '43.7 %'],
    ['self_sufficiency', 'ratio', 1, '100 %'],
    // The seasonal performance factor is a multiple, not a share.
    ['heat_pump_spf', 'ratio', 3.374, '3.37'],
    ['car_retrieval_time_p95', 's', 42, '42 s'],
    ['car_retrieval_time_p95', 's', 252.4, '4 min 12 s'],
    ['car_retrieval_time_p95', 's', 300, '5 min'],
    ['parcel_to_door_time_p95', 's', 41_730.5, '11 h 35 min'],
    ['carbon_emissions', 'kgCO2', 239.21, '239.2 kg CO₂'],
    ['carbon_emissions', 'kgCO2', 12_345, '12.35 t CO₂'],
    ['carbon_intensity', 'kgCO2/kWh', 0.3091, '0.309 kg CO₂/kWh'],
    ['water_per_capita', 'L/person/day', 96.04, '96 L/person/day'],
    ['door_forced_count', 'count', 3, '3'],
    ['night_flow_leak', 'meters', 1, '1 meter'],
    ['parking_turnover', 'entries/space/day', 2.345, '2.35 per space/day'],
  ])('%s %s %d → %s', (kpi, unit, v, want) => {
    expect(humanValue(kpi, unit, v)).toBe(want);
  });
});
