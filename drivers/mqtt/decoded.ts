import type { EventReading, Reading } from '../../gateway/model/types.js';

/** What one message decodes to (decode.ts and passthrough.ts both build it). */
export interface Decoded {
  /** The message's timestamp (source time when it has one, else receive time). */
  ts: number;
  hasSourceTs: boolean;
  readings: Reading[];
  events: EventReading[];
}
