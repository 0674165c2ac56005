import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { EmbeddedBroker, type BrokerDeps } from '../../../gateway/broker/embedded.js';
import { configSchema } from '../../../gateway/config/schema.js';
import { createLogger } from '../../../gateway/runtime/log.js';
import { GatewayMetrics } from '../../../gateway/runtime/metrics.js';

export type EmbeddedInput = Record<string, unknown>;

/** broker.embedded as the config loader makes it (defaults applied), from YAML-like input. */
export function embeddedConfig(input: EmbeddedInput) {
  const cfg = configSchema.parse({ version: 1, site: { id: 'test' }, broker: { embedded: { host: '127.0.0.1', port: 0, ...input } } });
  return cfg.broker.embedded as NonNullable<typeof cfg.broker.embedded>;
}

/** A pino logger whose lines the test reads. */
export function capturedLog() {
  const lines: Record<string, unknown>[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: createLogger({ level: 'debug', destination: dest }), lines };
}

export async function startBroker(input: EmbeddedInput, deps: BrokerDeps = {}) {
  const { log, lines } = capturedLog();
  const metrics = new GatewayMetrics({ defaults: false });
  const broker = new EmbeddedBroker(embeddedConfig(input), log, { metrics, ...deps });
  await broker.start();
  return { broker, lines, metrics };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves when the socket closes (true) or after `ms` (false). */
export function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  if (socket.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

export function rawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** MQTT remaining-length varint. */
export function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

export async function counter(metrics: GatewayMetrics, name: string, labels: Record<string, string>): Promise<number> {
  const m = await metrics.registry.getSingleMetric(name)?.get();
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}
