import { describe, expect, it } from 'vitest';
import { catalogUnitOf } from '../../../gateway/model/units.js';
import { codeOf, euFor, UNECE_URI, unitFromEu, unitIdOf } from '../../../drivers/opcua/units.js';

describe('EngineeringUnits → native units', () => {
  it('packs UNECE common codes as OPC 10000-8 says (CEL = 4408652)', () => {
    expect(unitIdOf('CEL')).toBe(4408652);
    expect(unitIdOf('KWT')).toBe(0x4b5754);
    expect(codeOf(unitIdOf('GV'))).toBe('GV');
  });

  it.each(['°C', 'K', 'W', 'kW', 'MW', 'Wh', 'kWh', 'MWh', 'J', 'kJ', 'MJ', 'GJ', 'm³', 'L', 'm³/h', 'L/h', 'L/min', '%', 's', 'min', 'h'])('%s round-trips through its UNECE code and converts to a catalog unit', (unit) => {
    const eu = euFor(unit);
    expect(eu).toBeDefined();
    expect(unitFromEu({ unitId: eu?.unitId as number, namespaceUri: UNECE_URI, displayName: { text: 'whatever' } })).toBe(unit);
    expect(catalogUnitOf(unit)).toBeDefined();
  });

  it('falls back to a display name the pipeline knows; otherwise nothing (the profile decides)', () => {
    expect(unitFromEu({ unitId: 0, displayName: { text: 'kWh' } })).toBe('kWh');
    expect(unitFromEu({ unitId: unitIdOf('XYZ'), displayName: { text: 'furlongs' } })).toBeUndefined();
    expect(unitFromEu({ unitId: unitIdOf('KWT'), namespaceUri: 'urn:vendor:units', displayName: { text: 'MW' } })).toBe('MW');
    expect(unitFromEu(null)).toBeUndefined();
  });
});
