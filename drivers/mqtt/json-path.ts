/**
 * Tiny JSON path: `a.b.c`, `a[0].b`, `rxInfo[0].rssi`, `sampledValue[?measurand=Energy.Active.Import.Register].value`
 * (first element whose field equals the text), and `$` for the whole value.
 * Paths are compiled once per profile; evaluation is a loop over precomputed steps.
 */
export type PathStep = string | number | { key: string; equals: string };
export type CompiledPath = readonly PathStep[];

export class JsonPathError extends Error {
  readonly code = 'MQTT_JSON_PATH';
}

const TOKEN = /\.?([^.[\]]+)|\[(\d+)\]|\[\?([^=\]]+)=([^\]]*)\]/y;

export function compilePath(path: string): CompiledPath {
  const src = path.replace(/^\$\.?/, '');
  const steps: PathStep[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < src.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(src);
    if (!m || m.index !== at) throw new JsonPathError(`bad JSON path "${path}" at character ${at}`);
    if (m[1] !== undefined) steps.push(m[1]);
    else if (m[2] !== undefined) steps.push(Number(m[2]));
    else steps.push({ key: m[3] as string, equals: m[4] as string });
  }
  return steps;
}

/**
 * `String(v)` for matching a field against configured text, without throwing: a JSON object
 * with its own `toString` or `valueOf` key (`{"toString": 1}`) makes `String()` throw, and the
 * payload is the sender's to choose. Such a value matches nothing.
 */
export function matchText(v: unknown): string {
  try {
    return String(v);
  } catch {
    return '\u0000unprintable';
  }
}

export function getPath(value: unknown, path: CompiledPath): unknown {
  let v = value;
  for (const step of path) {
    if (v === null || typeof v !== 'object') return undefined;
    if (typeof step === 'object') {
      if (!Array.isArray(v)) return undefined;
      v = v.find((el) => el !== null && typeof el === 'object' && matchText((el as Record<string, unknown>)[step.key]) === step.equals);
    } else {
      v = (v as Record<string | number, unknown>)[step];
    }
  }
  return v;
}
