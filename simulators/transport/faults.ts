import type { Outgoing } from './outgoing.js';
import type { Rng } from './rng.js';

/**
 * Injected faults. Each one is an extra, bad message on the device's own topic (the good message
 * is still sent), so ground truth stays simple: every good message must be stored, every fault
 * refused with a reason. `broker_restart` drops the publisher's connection instead.
 */
/**
 * `bad_timestamp`: a copy stamped by a clock that lost its time (1980-01-01 plus the hours of the
 * day). A copy stamped a little in the past is not a fault any more: late data is data (#19),
 * see the scenario's `late:` section.
 */
export const FAULT_KINDS = ['malformed_json', 'wrong_type', 'missing_field', 'duplicate', 'bad_timestamp', 'oversize'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
export type FaultRates = Partial<Record<FaultKind, number>>;

export interface Wire {
  topic: string;
  payload: string;
  fault?: FaultKind;
}

const OVERSIZE_BYTES = 80 * 1024;

export class FaultInjector {
  readonly counts: Record<FaultKind, number> = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;

  constructor(
    private readonly rates: FaultRates,
    private readonly rng: Rng,
  ) {}

  apply(out: Outgoing): Wire[] {
    const good: Wire = { topic: out.topic, payload: JSON.stringify(out.body) };
    const kind = this.draw();
    if (!kind) return [good];
    const bad = this.make(kind, out, good);
    this.counts[kind]++;
    return [good, { ...bad, fault: kind }];
  }

  private draw(): FaultKind | undefined {
    const u = this.rng();
    let acc = 0;
    for (const k of FAULT_KINDS) {
      acc += this.rates[k] ?? 0;
      if (u < acc) return k;
    }
    return undefined;
  }

  private make(kind: FaultKind, out: Outgoing, good: Wire): Omit<Wire, 'fault'> {
    const copy = () => structuredClone(out.body) as Record<string, unknown>;
    switch (kind) {
      case 'malformed_json':
        return { topic: out.topic, payload: good.payload.slice(0, Math.max(1, Math.floor(good.payload.length / 2))) };
      case 'wrong_type': {
        const b = copy();
        b[out.typed] = { unexpected: [1, 2, 3] };
        return { topic: out.topic, payload: JSON.stringify(b) };
      }
      case 'missing_field': {
        const b = copy();
        delete b[out.required];
        return { topic: out.topic, payload: JSON.stringify(b) };
      }
      case 'duplicate':
        return { topic: out.topic, payload: good.payload };
      case 'bad_timestamp': {
        const b = copy();
        const lost = Date.UTC(1980, 0, 1) + (out.ts % 86_400_000);
        setPath(b, out.tsKey, out.tsFormat === 'iso' ? new Date(lost).toISOString() : out.tsFormat === 's' ? Math.floor(lost / 1000) : lost);
        return { topic: out.topic, payload: JSON.stringify(b) };
      }
      case 'oversize': {
        const b = copy();
        b['padding'] = 'x'.repeat(OVERSIZE_BYTES);
        return { topic: out.topic, payload: JSON.stringify(b) };
      }
    }
  }
}

/** Set `a.0.b` in a JSON value (array indices as numbers). */
function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let cur: unknown = obj;
  for (const k of keys.slice(0, -1)) cur = (cur as Record<string, unknown>)?.[k];
  if (cur && typeof cur === 'object') (cur as Record<string, unknown>)[keys[keys.length - 1] as string] = value;
}
