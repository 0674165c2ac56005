import { describe, expect, it } from 'vitest';
import { eventDef, metricDef } from '../../../gateway/model/catalog.js';

/** Names come from devices: Object.prototype's members are not metrics, events or classes. */
describe('catalog lookups by name', () => {
  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'])('%s is nothing', (name) => {
    expect(metricDef('grid_meter', name)).toBeUndefined();
    expect(eventDef('access_door', name)).toBeUndefined();
    expect(metricDef(name, 'power')).toBeUndefined();
  });

  it('real names still resolve', () => {
    expect(metricDef('grid_meter', 'power')?.unit).toBe('W');
    expect(eventDef('access_door', 'door_forced')).toBeDefined();
  });
});
