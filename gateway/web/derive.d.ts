// Types of derive.js for the TypeScript tests.
export interface Rec {
  device?: string;
  metric?: string;
  value: unknown;
  quality: 'good' | 'uncertain' | 'bad';
  reason?: string;
  ts?: number;
}
export interface Derived {
  value: number | null;
  quality: 'good' | 'uncertain' | 'bad';
  reason?: string;
  n: number;
  ts: number;
}
export interface Device {
  id: string;
  class: string;
  tags?: Record<string, string>;
  status?: string;
  quality?: string | null;
  connection?: string;
  profile?: string;
}
export interface Ev {
  ts: number;
  device: string;
  type: string;
  attributes: Record<string, unknown>;
}
export class Ring<T> {
  constructor(cap: number);
  readonly cap: number;
  readonly size: number;
  push(x: T): void;
  clear(): void;
  toArray(): T[];
  newest(n?: number): T[];
}
export function compareIds(a: string, b: string): number;
export function sumOf(records: Rec[]): Derived;
export function meanOf(records: Rec[]): Derived;
export function combine(parts: Derived[], fn: (...v: number[]) => number): Derived;
export function mainMeters<D extends Device>(devices: D[]): D[];
export function energyBalance(
  latestOf: (device: string, metric: string) => Rec | undefined,
  devices: Device[],
): Record<'pv' | 'battery' | 'grid' | 'load' | 'soc' | 'hpElectric' | 'hpThermal' | 'cop', Derived>;
export function matchPairs(
  events: Ev[],
  startType: string,
  endTypes: string[],
  key: string,
): { done: { id: string; device: string; start: number; end: number; type: string; seconds: number }[]; open: { id: string; device: string; start: number }[] };
export function parcelsWaiting(events: Ev[], now: number, overdueMs?: number): { waiting: { id: string; start: number }[]; overdue: { id: string; start: number }[] };
export function zoneOf(device: Device): string;
export function occupancyByZone(
  spaces: Device[],
  latestOf: (device: string, metric: string) => Rec | undefined,
): { zone: string; total: number; occupied: number; unknown: number; chargers: number }[];
export function waterTypeOf(device: Device): string;
export function waterByType(rows: { type: string; role?: string; volume: number | null }[]): { byType: Map<string, number>; total: number; altShare: number | null };
export function boundOf(target: { min?: number; max?: number } | undefined): { op: string; value?: number; min?: number; max?: number } | undefined;
export function filterDevices<D extends Device>(devices: D[], f?: { text?: string; cls?: string; status?: string; quality?: string }): D[];

export type HealthProblem =
  | { kind: 'store_down' }
  | { kind: 'link'; id: string; state: string; detail: string }
  | { kind: 'sink'; id: string; state: string; backlog: number; detail: string }
  | { kind: 'over_cap' }
  | { kind: 'loss'; at: string; samples: number; events: number };
export function healthProblems(health: unknown): HealthProblem[];
