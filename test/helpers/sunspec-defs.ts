import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The SunSpec Alliance's model definitions (drivers/modbus/sunspec-models/, Apache-2.0) as
 * offsets: the reference the profile table test and the register-image fixtures work from.
 */
export const MODELS_DIR = fileURLToPath(new URL('../../drivers/modbus/sunspec-models/', import.meta.url));

export interface DefPoint {
  name: string;
  /** From the model's ID register (top level) or from the block start (repeating group). */
  offset: number;
  size: number;
  type: string;
  sf?: string;
  units?: string;
  symbols?: Map<number, string>;
}

export interface ModelDef {
  id: number;
  name: string;
  /** L of the fixed part (the model without repeating blocks). */
  length: number;
  points: Map<string, DefPoint>;
  /** A repeating group: where its first block starts, its size and points. */
  group?: { name: string; start: number; size: number; points: Map<string, DefPoint> };
}

interface JsonPoint {
  name: string;
  type: string;
  size: number;
  sf?: string;
  units?: string;
  symbols?: { name: string; value: number }[];
}
interface JsonGroup {
  name: string;
  points?: JsonPoint[];
  groups?: JsonGroup[];
}

function pointsOf(points: readonly JsonPoint[]): { map: Map<string, DefPoint>; size: number } {
  const map = new Map<string, DefPoint>();
  let offset = 0;
  for (const p of points) {
    const d: DefPoint = { name: p.name, offset, size: p.size, type: p.type };
    if (p.sf) d.sf = p.sf;
    if (p.units) d.units = p.units;
    if (p.symbols) d.symbols = new Map(p.symbols.map((s) => [s.value, s.name]));
    map.set(p.name, d);
    offset += p.size;
  }
  return { map, size: offset };
}

const cache = new Map<number, ModelDef | undefined>();

/** The definition of model `id`, or undefined when the reference has none. */
export function modelDef(id: number): ModelDef | undefined {
  if (cache.has(id)) return cache.get(id);
  let def: ModelDef | undefined;
  try {
    const g = (JSON.parse(readFileSync(`${MODELS_DIR}model_${id}.json`, 'utf8')) as { group: JsonGroup }).group;
    const top = pointsOf(g.points ?? []);
    def = { id, name: g.name, length: top.size - 2, points: top.map };
    const sub = g.groups?.[0];
    if (sub) {
      const s = pointsOf(sub.points ?? []);
      def.group = { name: sub.name, start: top.size, size: s.size, points: s.map };
    }
  } catch {
    def = undefined;
  }
  cache.set(id, def);
  return def;
}

/** SunSpec units → catalog units (what the profile's `unit` must say). */
export const UNIT_OF: Readonly<Record<string, string>> = { W: 'W', Wh: 'Wh', WH: 'Wh', '%': '%', Pct: '%', '%WHRtg': '%', '% AhrRtg': '%', C: '°C' };
