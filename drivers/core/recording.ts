import type { DeviceConfig } from '../../gateway/model/site-config.js';
import type { GoldenDoc } from './golden.js';

/**
 * A recording (`fcgw record`): what one device said on the wire for a while, to replay at a desk
 * (`fcgw replay`) through its profile and the pipeline, or to turn into a golden case. Modbus:
 * each read with its reply words (or the error); MQTT: each message's topic, payload and receive
 * time, with the values of personal fields replaced by the site's keyed pseudonyms before
 * anything is written.
 */
export interface Recording {
  format: 'fcgw-recording/1';
  protocol: string;
  profile: string;
  device: Pick<DeviceConfig, 'id' | 'class' | 'options'> & { address?: string | undefined };
  started: string;
  entries: RecordedEntry[];
}

export type RecordedEntry =
  | { t: number; poll: number; fn: string; address: number; count: number; words?: number[]; error?: string }
  | { t: number; topic: string; payload: string; encoding?: 'base64' }
  | { t: number; poll: number; request: string; reply?: string; error?: string }
  | { t: number; metric: string; unit?: string; value: { type: number; value: unknown } | null; status: { value: number; name: string }; source?: string; server?: string };

export interface RecordArgs<C, P> {
  connection: C;
  device: DeviceConfig;
  profile: P;
  /** How long to listen or poll. */
  durationMs: number;
  /** Pseudonym of a personal value (keyed with the site secret). */
  pseudonym(raw: string | number | boolean): string;
  entry(e: RecordedEntry): void;
  /** The gateway's data directory (an OPC UA client keeps its certificate there). */
  dataDir?: string;
  /** Called once the recorder listens (subscribed, connected): what the device says from now on is kept. */
  ready?(): void;
  signal?: AbortSignal;
}

/**
 * A polling recorder's rounds: `poll(n)` once a period until the recording's length has passed
 * or it is aborted. On the monotonic clock: a wall clock stepped by NTP (a box without a battery
 * clock) neither ends a recording early nor stretches it.
 */
export async function pollRounds(a: Pick<RecordArgs<unknown, unknown>, 'durationMs' | 'signal'>, periodMs: number, poll: (n: number) => Promise<void>): Promise<void> {
  const end = performance.now() + a.durationMs;
  for (let n = 0; performance.now() < end && !a.signal?.aborted; n++) {
    const started = performance.now();
    await poll(n);
    const wait = Math.min(periodMs - (performance.now() - started), end - performance.now());
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}

/** A recording as the golden cases of its driver (`DriverFactory.fromRecording`). */
export type FromRecording<P> = (profile: P, rec: Recording) => GoldenDoc;
