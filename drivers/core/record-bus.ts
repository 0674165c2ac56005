import pino from 'pino';
import type { DeviceConfig } from '../../gateway/model/site-config.js';
import { busEndpoint, busOptions, type BusConnection } from './bus-config.js';
import { BusLink } from './bus-link.js';
import type { BusMeter } from './golden-bus.js';
import type { GoldenDoc } from './golden.js';
import { pollRounds, type RecordArgs, type Recording } from './recording.js';

/**
 * `fcgw record` on a meter of a bus (DL/T 645, CJ/T 188): the meter polled at its period through
 * a link of its own, each request with the reply frame the meter sent (as the link matched it),
 * or the error. Replayed (`fcgw replay`), each poll is a golden case of recorded exchanges that
 * the real driver must ask for byte for byte.
 */
export async function recordBus<P>(a: RecordArgs<BusConnection, P>, meter: (c: { id: string; address: string; options: DeviceConfig['options'] }, p: P) => BusMeter & { period?: number }): Promise<void> {
  const link = new BusLink(busEndpoint(a.connection), busOptions(a.connection), pino({ level: 'silent' }));
  const dev = meter({ id: a.device.id, address: a.device.address ?? '', options: a.device.options }, a.profile);
  let poll = 0;
  // The link as the meter sees it, with every exchange written down.
  const tap = {
    exchange: <T>(request: Buffer, awaited: Parameters<BusLink['exchange']>[1], timeoutMs: number): Promise<T> => {
      let reply: Buffer | undefined;
      const t = Date.now();
      const watched = { scan: awaited.scan, match: (f: Buffer) => { const r = awaited.match(f); if (r.ok) reply = f; return r; } };
      return (link.exchange(request, watched, timeoutMs) as Promise<T>).then(
        (v) => (a.entry({ t, poll, request: request.toString('hex'), reply: reply?.toString('hex') ?? '' }), v),
        (err: Error) => (a.entry({ t, poll, request: request.toString('hex'), error: err.message }), Promise.reject(err)),
      );
    },
  } as unknown as BusLink;
  await link.start();
  a.ready?.();
  try {
    await pollRounds(a, a.device.poll ?? dev.period ?? 60_000, async (n) => {
      poll = n;
      await dev.poll(tap, { retries: a.connection.retries, timeoutMs: a.connection.timeout, now: Date.now }).catch(() => undefined);
    });
  } finally {
    await link.stop();
  }
}

/**
 * Each recorded poll as a case of exchanges. A request the meter stopped being asked after its
 * first answer (an identifier it refused) keeps that answer in the later cases, since each case
 * replays to a fresh device that asks again.
 */
export function busFromRecording(rec: Recording): GoldenDoc {
  // Wake-up bytes (FE…) lead a request on the wire; the replay matches frames without them.
  const all = rec.entries.flatMap((e) => ('request' in e ? [{ ...e, request: e.request.replace(/^(fe)+/i, '') }] : []));
  const firstReply = new Map<string, string>();
  for (const e of all) if (e.reply && !firstReply.has(e.request)) firstReply.set(e.request, e.reply);
  const polls = [...new Set(all.map((e) => e.poll))];
  return {
    profile: rec.profile,
    cases: polls.map((n) => {
      const mine = all.filter((e) => e.poll === n && e.reply);
      const asked = new Set(mine.map((e) => e.request));
      const earlier = [...firstReply].filter(([req]) => !asked.has(req)).map(([request, reply]) => ({ request, reply }));
      return {
        name: `poll ${n + 1} at ${new Date(mine[0]?.t ?? 0).toISOString()}`,
        address: rec.device.address ?? '',
        options: rec.device.options,
        exchanges: [...mine.map((e) => ({ request: e.request, reply: e.reply as string })), ...earlier],
      };
    }),
  };
}
