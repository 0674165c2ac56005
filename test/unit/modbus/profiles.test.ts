import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CATALOG, DEVICE_FACTS, metricDef } from '../../../gateway/model/catalog.js';
import { catalogUnitOf } from '../../../gateway/model/units.js';
import { decodeDevice, RegisterImage } from '../../../drivers/modbus/decode.js';
import { newMemory, plan, spansOf } from '../../../drivers/modbus/planner.js';
import { plainPoints, sunspecPoints, type DevicePoints, type Point } from '../../../drivers/modbus/points.js';
import type { ModbusProfile } from '../../../drivers/modbus/profile-schema.js';
import { discoverSunSpec } from '../../../drivers/modbus/sunspec.js';
import { ModbusError } from '../../../drivers/modbus/transport.js';
import { MODEL_LENGTH, UnitImage, type MetricValues } from '../../../simulators/servers/modbus-image.js';
import { GOLDEN_DIR } from '../../golden/modbus/run-golden.js';
import { PROFILES } from '../../integration/modbus/harness.js';

/**
 * Every Modbus profile against the catalog (names, units, enum values), its own layout (no two
 * points on one register), its golden case, and its simulator: values encoded by the simulator's
 * image through the profile come back unchanged through the driver's plan and decode.
 */

const REQUIRED = ['sunspec', 'heat-pump-xyzz', 'modbus-water-meter', 'plain-ess'];
const profiles = [...PROFILES.values()].filter((p) => p.protocol === 'modbus').map((p) => p as unknown as ModbusProfile);
const golden = new Set(readdirSync(GOLDEN_DIR).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, '')));

/** SunSpec models a simulated unit of each class carries. */
const LAYOUTS: Record<string, number[][]> = {
  pv_inverter: [[103, 160], [101], [113, 120], [701, 702, 160]],
  grid_meter: [[203], [213]],
  battery: [[802], [124], [713]],
};

type Mapping = { metric: string; class?: string | undefined; unit?: string | undefined; map?: Record<string, string | number | boolean> | undefined; bit?: number | undefined; below?: number | undefined };

function problemsOf(cls: string, p: Mapping): string[] {
  // Nameplate facts (rated_power) are plausibility input, not catalog metrics.
  const fact = DEVICE_FACTS[p.metric];
  if (fact !== undefined) return catalogUnitOf(p.unit ?? fact) === fact ? [] : [`${p.metric}: unit ${p.unit} does not convert to ${fact}`];
  const def = metricDef(cls, p.metric);
  if (!def) return [`${p.metric} is not a metric of ${cls}`];
  const out: string[] = [];
  if (p.map) {
    for (const v of Object.values(p.map)) {
      if (def.unit === 'bool' && typeof v !== 'boolean') out.push(`${p.metric}: map value ${String(v)} is not a boolean`);
      if (def.unit === 'enum' && !def.values?.includes(String(v))) out.push(`${p.metric}: map value ${String(v)} is not one of ${def.values?.join('/')}`);
      if (def.unit !== 'bool' && def.unit !== 'enum') out.push(`${p.metric}: a map needs an enum or bool metric`);
    }
  } else if (p.bit !== undefined || p.below !== undefined) {
    if (def.unit !== 'bool') out.push(`${p.metric}: bit/below give booleans, the metric is ${def.unit}`);
  } else if (def.unit === 'enum' || def.unit === 'bool') out.push(`${p.metric}: a ${def.unit} metric needs a map`);
  else if (catalogUnitOf(p.unit ?? def.unit) !== def.unit) out.push(`${p.metric}: unit ${p.unit} does not convert to ${def.unit}`);
  return out;
}

function overlaps(points: readonly Point[]): string[] {
  const out: string[] = [];
  const owner = new Map<string, Point>();
  for (const p of points) {
    for (let i = 0; i < p.words; i++) {
      const k = `${p.fn}:${p.address + i}`;
      const o = owner.get(k);
      // Several bits of one word are fine; two values on one register are not.
      if (o && o.metric !== p.metric && !(o.bit !== undefined && p.bit !== undefined)) out.push(`${p.metric} overlaps ${o.metric} at ${k}`);
      owner.set(k, p);
    }
  }
  return out;
}

/** A value of each metric that the point's type and scale can carry exactly. */
function sampleValues(cls: string, points: readonly Point[]): MetricValues {
  const out: MetricValues = {};
  for (const p of points) {
    const def = metricDef(cls, p.metric);
    if (p.map) out[p.metric] = Object.values(p.map).find((v) => def?.unit !== 'enum' || def.values?.includes(String(v))) ?? null;
    else if (p.bit !== undefined || p.below !== undefined) out[p.metric] = true;
    else if (p.type === 'float32' || p.type === 'float64') out[p.metric] = 12.5;
    else out[p.metric] = Number((1230 * p.scale + p.add).toPrecision(12));
  }
  return out;
}

/** Read a unit image the way the driver does: discovery, plan, reads, decode. */
async function readBack(profile: ModbusProfile, image: UnitImage, cls: string): Promise<Record<string, unknown>> {
  let pts: DevicePoints = plainPoints(profile, cls);
  if (profile.sunspec) {
    const read = async (a: number, n: number) => image.read('holding', a, n) ?? Promise.reject(new ModbusError('MODBUS_EXCEPTION', 'exception 2', 2));
    const map = await discoverSunSpec(read, profile.sunspec.bases);
    const found = sunspecPoints(profile, map?.models ?? [], cls);
    pts = { points: [...found.points, ...pts.points], derived: found.derived };
  }
  const reg = new RegisterImage();
  for (const r of plan(spansOf(pts.points), profile.limits, newMemory())) {
    const words = image.read(r.fn, r.address, r.count);
    expect(words, `${profile.id}: planned read ${r.fn} ${r.address}+${r.count} is inside the simulated map`).toBeDefined();
    reg.set(r.fn, r.address, words ?? [], 1);
  }
  const out: Record<string, unknown> = {};
  // 64-bit registers (701's TotWhInj) decode exactly as bigint; the sample values here are small.
  for (const r of decodeDevice(pts.points, pts.derived, reg, { device: 'x' })) out[r.metric] = r.quality ? r.reason : typeof r.value === 'bigint' ? Number(r.value) : r.value;
  return out;
}

describe('every Modbus profile against the catalog', () => {
  it('has the profiles the energy scene needs', () => {
    expect(profiles.map((p) => p.id)).toEqual(expect.arrayContaining(REQUIRED));
  });

  it.each(profiles.map((p) => [p.id, p] as const))('%s: catalog names, units and values; no overlaps; a golden case', (id, p) => {
    const problems: string[] = [];
    for (const cls of p.classes) expect(CATALOG[cls], `class ${cls}`).toBeDefined();
    for (const pt of p.points) {
      for (const cls of pt.class ? [pt.class] : p.classes) problems.push(...problemsOf(cls, pt));
      if (pt.class && !p.classes.includes(pt.class)) problems.push(`${pt.metric}: class ${pt.class} is not one of the profile's`);
    }
    for (const cls of p.classes) problems.push(...overlaps(plainPoints(p, cls).points));
    for (const m of p.sunspec?.models ?? []) {
      if (!p.classes.includes(m.class)) problems.push(`models ${m.ids.join('/')}: class ${m.class} is not one of the profile's`);
      for (const pt of m.points) problems.push(...problemsOf(m.class, pt));
      for (const mid of m.ids) {
        const length = mid === 160 ? 8 + 20 * 2 : MODEL_LENGTH[mid];
        if (length === undefined) continue;
        const pts = sunspecPoints(p, [{ id: mid, address: 0, length }], m.class).points;
        problems.push(...overlaps(pts));
        // A point the model's L does not reach is silently skipped: that would be a profile bug.
        const wanted = m.points.filter((x) => !x.aggregate).length;
        if (pts.filter((x) => !x.aggregate).length < wanted) problems.push(`model ${mid}: a point lies beyond L = ${length}`);
      }
    }
    for (const d of p.derived) {
      for (const cls of d.class ? [d.class] : p.classes) {
        if (!metricDef(cls, d.metric)) problems.push(`derived ${d.metric} is not a metric of ${cls}`);
        for (const input of d.inputs) if (!p.points.some((x) => x.metric === input && (!x.class || x.class === cls))) problems.push(`derived ${d.metric}: no point ${input}`);
      }
    }
    expect(problems).toEqual([]);
    expect(golden.has(id), `test/golden/modbus/${id}.yaml`).toBe(true);
  });

  it.each(profiles.map((p) => [p.id, p] as const))('%s: its simulator agrees (encode → plan → read → decode round trip)', async (_id, p) => {
    for (const cls of p.classes) {
      for (const models of p.sunspec ? (LAYOUTS[cls] ?? []) : [[]]) {
        const points = p.sunspec ? sunspecPoints(p, [], cls).points : plainPoints(p, cls).points;
        // SunSpec points exist only once the models are placed: take them from a built image.
        let values: MetricValues = {};
        const image = new UnitImage(p, [{ cls, values: () => values }], p.sunspec ? { models } : undefined);
        const placed = p.sunspec ? await placedPoints(p, image, cls) : points;
        values = sampleValues(cls, placed);
        image.refresh();
        const got = await readBack(p, image, cls);
        const derived = p.derived.filter((d) => !d.class || d.class === cls).map((d) => d.metric);
        for (const m of derived) expect(typeof got[m], `${p.id}/${cls}: derived ${m}`).toBe('number');
        for (const m of derived) delete got[m];
        expect(got, `${p.id}/${cls} with models ${models.join(',')}`).toEqual(values);
        expect(Object.keys(values).length).toBeGreaterThan(0);
      }
    }
  });
});

async function placedPoints(p: ModbusProfile, image: UnitImage, cls: string): Promise<Point[]> {
  const read = async (a: number, n: number) => image.read('holding', a, n) ?? Promise.reject(new ModbusError('MODBUS_EXCEPTION', 'exception 2', 2));
  const map = await discoverSunSpec(read, p.sunspec?.bases ?? []);
  return sunspecPoints(p, map?.models ?? [], cls).points;
}
