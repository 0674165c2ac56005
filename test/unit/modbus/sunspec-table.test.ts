import { describe, expect, it } from 'vitest';
import { wordsOf } from '../../../drivers/modbus/codecs.js';
import { sunspecModel, type ModbusProfile, type SunSpecModelDef, type SunSpecPointDef } from '../../../drivers/modbus/profile-schema.js';
import { MODEL_LENGTH } from '../../../simulators/servers/modbus-image.js';
import { PROFILES } from '../../integration/modbus/harness.js';
import { modelDef, UNIT_OF, type DefPoint, type ModelDef } from '../../helpers/sunspec-defs.js';

/**
 * The whole SunSpec table against the SunSpec Alliance's own definitions: every point a profile
 * claims (name, offset, size, type, scale-factor point, unit, enum values, repeating block) must be
 * what the model definition says, for every model id it is listed under. A model the reference
 * does not define, or a point copied from a neighbour model's layout, fails here.
 */

/** Definition types the profile spells differently (a `count` is a uint16 register). */
const TYPE_ALIAS: Readonly<Record<string, string>> = { count: 'uint16' };

export function checkModel(m: SunSpecModelDef, def: ModelDef | undefined, id: number): string[] {
  if (!def) return [`model ${id}: no definition in drivers/modbus/sunspec-models/`];
  const out: string[] = [];
  const where = `model ${id} (${def.name})`;
  if (m.repeat) {
    if (!def.group) out.push(`${where}: repeat given but the model has no repeating group`);
    else if (m.repeat.start !== def.group.start || m.repeat.size !== def.group.size) out.push(`${where}: repeat ${m.repeat.start}/${m.repeat.size}, definition ${def.group.start}/${def.group.size}`);
  }
  for (const p of m.points) out.push(...checkPoint(p, m, def, where));
  return out;
}

function checkPoint(p: SunSpecPointDef, m: SunSpecModelDef, def: ModelDef, where: string): string[] {
  const out: string[] = [];
  if (!p.name) return [`${where}: ${p.metric} names no SunSpec point`];
  const inBlock = m.repeat !== undefined && p.aggregate !== undefined;
  const points = inBlock ? def.group?.points : def.points;
  const d = points?.get(p.name);
  const at = `${where} ${p.name} (${p.metric})`;
  if (!d) return [`${at}: no such point${inBlock ? ' in the repeating group' : ''}`];
  if (p.offset !== d.offset) out.push(`${at}: offset ${p.offset}, definition ${d.offset}`);
  const type = TYPE_ALIAS[d.type] ?? d.type;
  if (p.type !== type) out.push(`${at}: type ${p.type}, definition ${d.type}`);
  if (wordsOf(p.type, p.length) !== d.size) out.push(`${at}: ${wordsOf(p.type, p.length)} registers, definition ${d.size}`);
  // The scale factor is always a top-level point of the model.
  const sf = d.sf ? def.points.get(d.sf) : undefined;
  if (d.sf && !sf) out.push(`${at}: scale factor ${d.sf} missing from the definition`);
  if (sf && p.sf !== sf.offset) out.push(`${at}: sf at ${String(p.sf)}, definition ${d.sf} at ${sf.offset}`);
  if (!d.sf && p.sf !== undefined) out.push(`${at}: sf at ${p.sf}, the definition has none`);
  if (d.units !== undefined && !p.map) {
    const unit = UNIT_OF[d.units];
    if (unit === undefined) out.push(`${at}: unit ${d.units} has no catalog unit`);
    else if (p.unit !== unit) out.push(`${at}: unit ${String(p.unit)}, definition ${d.units} (${unit})`);
  }
  if (p.map) out.push(...checkEnum(p, d, at));
  if (p.when) out.push(...checkBlockPoint(def, p.when.offset, 1, 'when', at));
  if (p.unless_prefix) out.push(...checkBlockPoint(def, p.unless_prefix.offset, p.unless_prefix.length, 'unless_prefix', at));
  return out;
}

function checkEnum(p: SunSpecPointDef, d: DefPoint, at: string): string[] {
  if (!d.symbols) return [`${at}: a map, but the definition has no symbols`];
  const out: string[] = [];
  for (const k of Object.keys(p.map ?? {})) if (!d.symbols.has(Number(k))) out.push(`${at}: map key ${k} is no symbol of the definition`);
  for (const [v, name] of d.symbols) if (!(String(v) in (p.map ?? {}))) out.push(`${at}: symbol ${name} (${v}) is not mapped`);
  return out;
}

function checkBlockPoint(def: ModelDef, offset: number, size: number, what: string, at: string): string[] {
  const hit = [...(def.group?.points.values() ?? [])].find((x) => x.offset === offset);
  return hit && hit.size === size ? [] : [`${at}: ${what} at block offset ${offset} (${size} registers) is no point of the group`];
}

export function checkProfile(p: ModbusProfile): string[] {
  return (p.sunspec?.models ?? []).flatMap((m) => m.ids.flatMap((id) => checkModel(m, modelDef(id), id)));
}

const sunspecProfiles = [...PROFILES.values()].filter((p) => p.protocol === 'modbus' && 'sunspec' in p && p.sunspec).map((p) => p as unknown as ModbusProfile);

/** Models the profile must read (issue 12): inverters, meters, storage, DER, nameplate, battery. */
const REQUIRED = [101, 102, 103, 111, 112, 113, 120, 124, 160, 201, 202, 203, 204, 211, 212, 213, 214, 701, 702, 713, 714, 802];

describe('SunSpec table against the Alliance definitions', () => {
  it('finds the SunSpec profile', () => {
    expect(sunspecProfiles.map((p) => p.id)).toContain('sunspec');
  });

  it.each(sunspecProfiles.map((p) => [p.id, p] as const))('%s: every point matches its model definition', (_id, p) => {
    expect(checkProfile(p)).toEqual([]);
  });

  it('the sunspec profile reads every model the catalog has metrics for', () => {
    const p = sunspecProfiles.find((x) => x.id === 'sunspec');
    const ids = new Set(p?.sunspec?.models.flatMap((m) => m.ids));
    expect(REQUIRED.filter((id) => !ids.has(id))).toEqual([]);
  });

  it('the simulator builds every model with the L of its definition', () => {
    const wrong = Object.entries(MODEL_LENGTH).filter(([id, l]) => modelDef(Number(id))?.length !== l);
    expect(wrong).toEqual([]);
  });

  it('fails a model listed under another layout, an unknown model, a wrong sf or unit', () => {
    const base = sunspecProfiles.find((x) => x.id === 'sunspec') as ModbusProfile;
    const mutate = (models: unknown[]): ModbusProfile => ({ ...base, sunspec: { bases: [40000], models: models.map((m) => sunspecModel.parse(m)) } });
    // The bug of issue 12: float inverters listed with the integer inverters' offsets.
    const intInverter = base.sunspec?.models.find((m) => m.ids.includes(103));
    const old = mutate([{ ...intInverter, ids: [103, 113] }]);
    const oldProblems = checkProfile(old);
    expect(oldProblems.some((x) => x.startsWith('model 113') && x.includes('offset 14, definition 22'))).toBe(true);
    expect(oldProblems.some((x) => x.startsWith('model 113') && x.includes('type int16, definition float32'))).toBe(true);
    expect(checkProfile(mutate([{ ids: [999], class: 'pv_inverter', points: [{ metric: 'ac_power', name: 'W', offset: 14, type: 'int16', unit: 'W' }] }]))).toEqual(['model 999: no definition in drivers/modbus/sunspec-models/']);
    const wrongSf = checkProfile(mutate([{ ids: [203], class: 'grid_meter', points: [{ metric: 'power', name: 'W', offset: 18, type: 'int16', sf: 21, unit: 'kW' }] }]));
    expect(wrongSf).toEqual(['model 203 (ac_meter_abcn) W (power): sf at 21, definition W_SF at 22', 'model 203 (ac_meter_abcn) W (power): unit kW, definition W (W)']);
    const badEnum = checkProfile(mutate([{ ids: [802], class: 'battery', points: [{ metric: 'state', name: 'ChaSt', offset: 16, type: 'enum16', map: { '1': 'off', '9': 'full' } }] }]));
    expect(badEnum).toContain('model 802 (battery) ChaSt (state): map key 9 is no symbol of the definition');
    expect(badEnum).toContain('model 802 (battery) ChaSt (state): symbol CHARGING (4) is not mapped');
    const badBlock = checkProfile(mutate([{ ids: [160], class: 'pv_inverter', repeat: { start: 10, size: 18 }, points: [{ metric: 'dc_power', name: 'DCW', offset: 11, type: 'uint16', sf: 4, unit: 'W', aggregate: 'sum' }] }]));
    expect(badBlock).toEqual(['model 160 (mppt): repeat 10/18, definition 10/20']);
  });
});
