import type { Clock } from '../model/clock.js';

/**
 * What the store's own parts (reads, KPI reads, maintenance) use of the store that holds their
 * connection. They see this, not the Store class, so the class can build them without an import
 * cycle.
 */
export interface Cursor {
  samples: number;
  events: number;
}

export interface SeriesInfo {
  id: number;
  device: string;
  cls: string;
  metric: string;
  /** A boolean metric (stored as 0/1): set by the store when it learns the series. */
  bool?: boolean;
}

export interface StoreCore {
  readonly site: string;
  readonly clock: Clock;
  series(device: string, metric: string): SeriesInfo | undefined;
  seriesInfo(id: number): SeriesInfo | undefined;
  refreshSeries(): void;
  maxSeq(): Cursor;
  getCursor(consumer: string): Cursor | undefined;
  setCursor(consumer: string, c: Partial<Cursor>): void;
  sizeBytes(): number;
}
