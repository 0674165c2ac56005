// Types of state.js for the TypeScript tests.
import type { Ring } from './derive.js';

export interface Limits {
  series: number;
  devices: number;
  events: number;
  alerts: number;
  flushMs: number;
}
export interface LiveRec {
  device: string;
  class: string;
  metric: string;
  ts: number;
  value: unknown;
  quality: 'good' | 'uncertain' | 'bad';
  reason?: string;
  unit?: string;
}
export interface PageDevice {
  id: string;
  class: string;
  status?: string;
  lastSeen: number;
  quality?: string | null;
  tags?: Record<string, string>;
}
export interface Batch {
  samples: LiveRec[];
  events: { ts: number; device: string; type: string; attributes: Record<string, unknown> }[];
  alerts: Record<string, unknown>[];
}
export const LIMITS: Readonly<Limits>;
export class LiveState {
  constructor(limits?: Limits);
  devices: Map<string, PageDevice>;
  latest: Map<string, LiveRec>;
  events: Ring<Batch['events'][number]>;
  alerts: Map<string, Record<string, unknown>>;
  received: { samples: number; events: number; alerts: number };
  status: string;
  now(): number;
  latestOf(device: string, metric: string): LiveRec | undefined;
  devicesOf(cls: string): PageDevice[];
  subscribe(fn: (b: Batch) => void): () => void;
  setDevices(list: PageDevice[]): void;
  putSample(r: LiveRec): void;
  putAlert(a: Record<string, unknown>): void;
  recentAlerts(n?: number): Record<string, unknown>[];
  activeAlerts(): number;
  onSample(data: string): void;
  onEvent(data: string): void;
  onAlert(data: string): void;
  onStale(data: string): void;
  flush(): void;
}
