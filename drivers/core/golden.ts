import type { EventReading, Reading } from '../../gateway/model/types.js';

/**
 * Golden cases of a profile (`fcgw profile test PROFILE CASES.yaml`, and the repository's own
 * test/golden/*): raw input as the device says it (registers, payloads, DataValues, recorded
 * exchanges) → what the driver decodes. Each driver reads the cases of its protocol through its
 * own decode path (`DriverFactory.golden`); the gateway's runner (gateway/golden) then passes the
 * readings through the pipeline's normaliser and compares readings and/or samples with what each
 * case expects.
 */
export interface GoldenDecoded {
  /** Class of the device the case reads (the case's, the file's, or the profile's first). */
  class: string;
  /** Device id the readings carry. */
  device: string;
  readings: Reading[];
  events: EventReading[];
  /** Why the input was refused (an MQTT payload that is not valid), instead of readings. */
  reject?: string;
  /** A problem of the case itself (a request the recording does not have…), not of the profile. */
  problems?: string[];
}

/** A golden file as parsed from YAML: `profile`, the protocol's own header keys, and `cases`. */
export interface GoldenDoc {
  profile: string;
  cases: Record<string, unknown>[];
  [key: string]: unknown;
}

export type GoldenRunner<P> = (profile: P, doc: GoldenDoc) => Promise<GoldenDecoded[]>;

/** Hex as bus sniffers print it: spaces, newlines and `#` comments allowed. */
export const hexBytes = (s: string): Buffer => Buffer.from(s.replace(/#.*$/gm, '').replace(/\s+/g, ''), 'hex');
