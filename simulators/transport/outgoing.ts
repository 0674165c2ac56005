/** One message a simulated device sends, before faults are applied. */
export interface Outgoing {
  /** Simulated time the device sends it. */
  ts: number;
  topic: string;
  body: Record<string, unknown>;
  /** Where the message carries its own time, and how (for the out-of-order fault). */
  tsKey: string;
  tsFormat: 'iso' | 'ms' | 's';
  /** A field whose absence the gateway must refuse (missing-field fault). */
  required: string;
  /** A field whose wrong type the gateway must refuse (wrong-type fault). */
  typed: string;
}

/** A simulated device family: advances its model and says what its devices publish. */
export interface Source {
  readonly name: string;
  advance(to: number): Outgoing[];
  groundTruth(): Record<string, unknown>;
}
