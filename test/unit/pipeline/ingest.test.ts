import { Writable } from 'node:stream';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../gateway/model/clock.js';
import { CounterState } from '../../../gateway/pipeline/counters.js';
import { IngestError, Ingestor } from '../../../gateway/pipeline/ingest.js';
import { Dedupe } from '../../../gateway/pipeline/normalise.js';
import { Pseudonymiser } from '../../../gateway/pipeline/pseudonymise.js';
import { createLogger, RateLimitedLog } from '../../../gateway/runtime/log.js';
import { GatewayMetrics } from '../../../gateway/runtime/metrics.js';
import { Store } from '../../../gateway/store/store.js';
import { tempDir } from '../../helpers/peers.js';

const T0 = Date.UTC(2026, 5, 1);

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, log: createLogger({ level: 'debug', destination: stream }) };
}

describe('ingestor', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: Store;
  let metrics: GatewayMetrics;
  let out: ReturnType<typeof capture>;
  const make = (maxRows = 1000, queueMax = 100_000, maxDelayMs = 0, deviceClass = (d: string) => (d.startsWith('m') ? 'grid_meter' : undefined), busyDelayMs = 0) =>
    new Ingestor({
      store,
      metrics,
      log: out.log,
      maxRows,
      queueMax,
      maxDelayMs,
      busyDelayMs,
      normalise: {
        site: 't',
        deviceClass,
        counters: new CounterState(),
        dedupe: new Dedupe(),
        pseudo: new Pseudonymiser(Buffer.alloc(32, 3)),
        now: () => T0,
      },
    });
  const reading = (i: number, device = 'm1') => ({ device, metric: 'power', value: i, ts: T0 + i });

  beforeEach(() => {
    dir = tempDir();
    store = Store.open({ path: join(dir.dir, 'i.db'), site: 't', clock: new ManualClock(T0) });
    metrics = new GatewayMetrics({ defaults: false });
    out = capture();
  });
  afterEach(() => {
    if (store.isOpen) store.close();
    dir.cleanup();
  });

  it('groups what arrives in one turn into one transaction and resolves only after commit', async () => {
    const ing = make();
    const done = Array.from({ length: 20 }, (_, i) => ing.submit({ readings: [reading(i)] }).then(() => store.counts().samples));
    const countsWhenResolved = await Promise.all(done);
    expect(countsWhenResolved.every((n) => n === 20)).toBe(true);
    expect((await metrics.ingestBatches.get()).values[0]?.value).toBe(1);
  });

  it('gathers readings for busy_delay while 2,000 or more arrive a second, and commits each turn when quiet', async () => {
    const ing = make(100_000, 1_000_000, 0, undefined, 200);
    const batches = () => metrics.ingestBatches.get().then((m) => m.values[0]?.value ?? 0);
    const turn = () => new Promise((r) => setImmediate(r));
    const twoApart = async (gap: () => Promise<unknown>, at: number) => {
      const before = await batches();
      const a = ing.submit({ readings: [reading(at)] });
      await gap();
      const b = ing.submit({ readings: [reading(at + 1)] });
      await Promise.all([a, b]);
      return (await batches()) - before;
    };
    // Quiet: two readings a turn apart are two transactions.
    expect(ing.gathering).toBe(false);
    expect(await twoApart(turn, 0)).toBe(2);
    // 3,000 readings a second for a little over a second (not awaited: busy producers).
    const busy: Promise<void>[] = [];
    const t0 = performance.now();
    for (let i = 0; performance.now() - t0 < 1_100; i++) {
      busy.push(ing.submit({ readings: Array.from({ length: 30 }, (_, j) => reading(10 + i * 30 + j, 'm2')) }));
      await new Promise((r) => setTimeout(r, 10));
    }
    busy.push(ing.submit({ readings: [reading(9, 'm2')] }));
    expect(ing.gathering).toBe(true);
    await Promise.all(busy);
    // Busy: readings a turn apart, 300 batches of 10 (enough to keep the rate up whenever it is
    // judged again), share a few transactions (the 200 ms allow one).
    const before = await batches();
    const stream: Promise<void>[] = [];
    for (let i = 0; i < 300; i++) {
      stream.push(ing.submit({ readings: Array.from({ length: 10 }, (_, j) => reading(5_000_000 + i * 10 + j, 'm3')) }));
      await turn();
    }
    await Promise.all(stream);
    expect((await batches()) - before).toBeLessThanOrEqual(5);
    // A producer that waits for each acknowledgement (an MQTT session with few messages in flight)
    // is not held for the whole 200 ms each time: the batch commits once nothing came for 2 ms.
    const t1 = performance.now();
    for (let i = 0; i < 20; i++) await ing.submit({ readings: Array.from({ length: 100 }, (_, j) => reading(5_100_000 + i * 100 + j, 'm3')) });
    expect(performance.now() - t1).toBeLessThan(1_000);
    expect(ing.gathering).toBe(true);
    // Quiet again (the rate is judged a second at a time: the one with the busy tail, then one
    // with a single reading): each turn commits on its own.
    await new Promise((r) => setTimeout(r, 1_100));
    await ing.submit({ readings: [reading(5_900_000, 'm3')] });
    await new Promise((r) => setTimeout(r, 1_100));
    expect(await twoApart(turn, 6_000_000)).toBe(2);
    expect(ing.gathering).toBe(false);
    expect(store.counts().samples).toBe(2 + (busy.length - 1) * 30 + 1 + 3_000 + 2_000 + 1 + 2);
  });

  it('while busy, learns whether a pause means producers wait for their commit or only paused', async () => {
    const ing = make(100_000, 1_000_000, 0, undefined, 200);
    const batches = () => metrics.ingestBatches.get().then((m) => m.values[0]?.value ?? 0);
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    let at = 0;
    const rows = (n: number, device: string) => Array.from({ length: n }, () => reading(at++, device));
    // Busy: 3,000 readings a second for a little over a second, 10 ms apart. Once the rate is
    // judged busy, the first batch gathers to its deadline (a probe) and sees readings come
    // again after each pause: the producers keep sending, so pauses stop ending batches.
    const busy: Promise<void>[] = [];
    const t0 = performance.now();
    while (performance.now() - t0 < 1_300) {
      busy.push(ing.submit({ readings: rows(30, 'm2') }));
      await sleep(10);
    }
    await Promise.all(busy);
    expect(ing.gathering).toBe(true);
    expect(ing.patientGathering).toBe(true);

    // A producer that sends a burst and waits for its commit before the next one (an MQTT session
    // whose in-flight window is full): its first two batches wait out the 200 ms and show one
    // burst and then nothing (two in a row: one could be a stall), so from then on a pause ends
    // the batch.
    const w0 = performance.now();
    await ing.submit({ readings: rows(100, 'm3') });
    expect(ing.patientGathering).toBe(true);
    await ing.submit({ readings: rows(100, 'm3') });
    expect(performance.now() - w0).toBeGreaterThanOrEqual(380);
    expect(ing.patientGathering).toBe(false);
    const w1 = performance.now();
    const before = await batches();
    for (let i = 0; i < 10; i++) await ing.submit({ readings: rows(100, 'm3') });
    // Ten commits at the pause, not ten busy delays (2,000 ms).
    expect(performance.now() - w1).toBeLessThan(1_000);
    expect((await batches()) - before).toBe(10);
    expect(ing.gathering).toBe(true);

    // A producer that keeps sending, 5 ms apart: pauses end its batches until a probe (a second
    // after the last verdict) sees it send through one; then its batches gather to the deadline.
    const stream: Promise<void>[] = [];
    const s0 = performance.now();
    let tailFrom = 0;
    while (performance.now() - s0 < 1_800) {
      if (!tailFrom && performance.now() - s0 >= 1_400) tailFrom = await batches();
      stream.push(ing.submit({ readings: rows(30, 'm4') }));
      await sleep(5);
    }
    const tail = (await batches()) - tailFrom;
    await Promise.all(stream);
    expect(ing.patientGathering).toBe(true);
    // The last 400 ms: batches of the 200 ms delay (a pause-ended batch every 5 ms would be ~80).
    expect(tail).toBeLessThanOrEqual(4);
    expect(store.counts().samples).toBe(at);
  });

  it('with max_delay, groups what arrives over that time into one transaction, and max_rows still cuts it short', async () => {
    const ing = make(50, 100_000, 40);
    const batches = () => metrics.ingestBatches.get().then((m) => m.values[0]?.value ?? 0);
    const first = ing.submit({ readings: [reading(0)] });
    await new Promise((r) => setTimeout(r, 10));
    expect(store.counts().samples).toBe(0); // still waiting for company
    const second = ing.submit({ readings: [reading(1)] });
    await Promise.all([first, second]);
    expect(store.counts().samples).toBe(2);
    expect(await batches()).toBe(1);
    // A batch that reaches max_rows commits at once (synchronously), without waiting out the delay.
    const full = ing.submit({ readings: Array.from({ length: 50 }, (_, i) => reading(100 + i)) });
    expect(store.counts().samples).toBe(52);
    await full;
  });

  it('commits synchronously at max_rows, so a burst never piles up in memory', async () => {
    const ing = make(100);
    const p = ing.submit({ readings: Array.from({ length: 150 }, (_, i) => reading(i)) });
    expect(store.counts().samples).toBe(150);
    expect(ing.depth()).toBe(0);
    await p;
  });

  it('holds producers back while the queue is full', async () => {
    const ing = make(10_000, 100);
    const order: string[] = [];
    const a = ing.submit({ readings: Array.from({ length: 100 }, (_, i) => reading(i)) }).then(() => order.push('a'));
    const b = ing.submit({ readings: [reading(500)] }).then(() => order.push('b'));
    expect(ing.depth()).toBe(100); // b waits outside the queue
    await Promise.all([a, b]);
    expect(order).toEqual(['a', 'b']);
    expect(store.counts().samples).toBe(101);
  });

  it('counts and logs rejections by reason, rate-limited, and keeps the good readings', async () => {
    const ing = make();
    await ing.submit({ readings: [reading(1), ...Array.from({ length: 20 }, (_, i) => reading(i, 'ghost'))] });
    expect(store.counts().samples).toBe(1);
    const rej = await metrics.rejections.get();
    expect(rej.values).toEqual([expect.objectContaining({ labels: { reason: 'unknown_device' }, value: 20 })]);
    expect(out.lines.filter((l) => l['reason'] === 'unknown_device')).toHaveLength(5);
    // A hundred bad devices: still a bounded number of lines for the reason.
    await ing.submit({ readings: Array.from({ length: 100 }, (_, i) => reading(i, `ghost-${i}`)) });
    expect((await metrics.rejections.get()).values[0]?.value).toBe(120);
    expect(out.lines.filter((l) => l['reason'] === 'unknown_device')).toHaveLength(20);
  });

  it('limits rejection logs per reason over all devices too, and summarises what it held back', () => {
    let now = T0;
    const log = new RateLimitedLog(out.log, () => now);
    const reject = (device: string) => log.warn(`wrong_type:${device}`, { device, reason: 'wrong_type' }, 'bad', 'wrong_type');
    for (let i = 0; i < 300; i++) reject(`d${i % 100}`);
    log.warn('oversize:d1', { device: 'd1', reason: 'oversize' }, 'big', 'oversize');
    expect(out.lines.filter((l) => l['reason'] === 'wrong_type')).toHaveLength(20);
    expect(out.lines.filter((l) => l['reason'] === 'oversize')).toHaveLength(1);
    now += 60_000;
    reject('d7');
    expect(out.lines.find((l) => l['key'] === 'wrong_type')).toMatchObject({ suppressed: 280, msg: '280 more like this were not logged' });
    expect(out.lines.filter((l) => l['reason'] === 'wrong_type')).toHaveLength(21);
  });

  it('refuses a producer that was waiting for room when close() came, and stores nothing of it', async () => {
    const ing = make(10_000, 100);
    const a = ing.submit({ readings: Array.from({ length: 100 }, (_, i) => reading(i)) });
    const b = ing.submit({ readings: [reading(500)] }).catch((e: unknown) => e);
    expect(ing.depth()).toBe(100); // b waits outside the queue
    ing.close();
    await a;
    const err = await b;
    expect(err).toBeInstanceOf(IngestError);
    expect(err).toMatchObject({ code: 'INGEST_CLOSED', message: expect.stringMatching(/ingest is closed/) });
    await new Promise((r) => setImmediate(r));
    expect(store.counts().samples).toBe(100);
    expect(ing.depth()).toBe(0);
    // And a new submit after close is refused at once.
    await expect(ing.submit({ readings: [reading(600)] })).rejects.toMatchObject({ code: 'INGEST_CLOSED' });
  });

  it('gives a normaliser exception its own code, counts it, and still commits the other producers', async () => {
    const ing = make(1000, 100_000, 0, (d) => {
      if (d === 'mboom') throw new TypeError('cannot read properties of undefined');
      return d.startsWith('m') ? 'grid_meter' : undefined;
    });
    const good = ing.submit({ readings: [reading(1)] });
    const bad = ing.submit({ readings: [reading(2, 'mboom'), reading(3, 'mboom')] }).catch((e: unknown) => e);
    await good;
    const err = await bad;
    expect(err).toBeInstanceOf(IngestError);
    expect(err).toMatchObject({ code: 'NORMALISE_FAILED', retryable: false, message: expect.stringMatching(/cannot read properties/) });
    expect(store.counts().samples).toBe(1);
    const rej = await metrics.rejections.get();
    expect(rej.values).toEqual([expect.objectContaining({ labels: { reason: 'normalise_failed' }, value: 2 })]);
    expect(out.lines.find((l) => l['reason'] === 'normalise_failed')).toMatchObject({ device: 'mboom', msg: 'normalise failed; the batch is refused' });
  });

  it('rejects every waiting producer with a retryable error when the store cannot write', async () => {
    const ing = make();
    store.close();
    const err = await ing.submit({ readings: [reading(1)] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IngestError);
    expect(err).toMatchObject({ code: 'STORE_WRITE_FAILED', retryable: true });
  });
});

describe('logging', () => {
  it('redacts secrets wherever they appear', () => {
    const { lines, log } = capture();
    log.child({ connection: 'lora' }).info({ password: 'p@ss', sink: { token: 'tok-123' }, user: { password_hash: 'scrypt$x' } }, 'connecting');
    expect(JSON.stringify(lines)).not.toMatch(/p@ss|tok-123|scrypt\$x/);
    expect(lines[0]).toMatchObject({ connection: 'lora', password: '[redacted]', sink: { token: '[redacted]' } });
  });
});
