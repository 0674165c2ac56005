import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { createLogger } from '../../../gateway/runtime/log.js';
import { tempDir } from '../../helpers/peers.js';

export const READ_TOKEN = 'read-token-0123456789abcdef';
export const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
export const T0 = Date.UTC(2026, 5, 1, 2, 0, 0);

export interface TestGateway {
  gw: Gateway;
  port: number;
  /** Everything the gateway logged (at trace), one JSON line each. */
  logText(): string;
  reloads: number;
  stop(): Promise<void>;
}

/**
 * A real gateway on a free loopback port with the `api:` section given (without braces), a
 * device with samples and an event that holds a licence plate, and a reload callback that counts.
 */
export async function startApiGateway(apiYaml: string, opts: { reload?: boolean } = {}): Promise<TestGateway> {
  const dir = tempDir('fcgw-api-');
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const config = parseConfig(
    `version: 1
site: { id: apitest }
store: { path: ${join(dir.dir, 'gw.db')} }
api: { host: 127.0.0.1, port: 0${apiYaml ? `, ${apiYaml}` : ''} }
`,
    'test.yaml',
    {},
  );
  const t: TestGateway = {
    gw: undefined as unknown as Gateway,
    port: 0,
    logText: () => lines.join(''),
    reloads: 0,
    stop: async () => {
      await t.gw.stop();
      dir.cleanup();
    },
  };
  t.gw = Gateway.create({
    config,
    log: createLogger({ level: 'trace', destination }),
    processMetrics: false,
    env: { FCGW_SITE_SECRET: 'x'.repeat(32) },
    ...(opts.reload === false ? {} : { reload: () => void t.reloads++ }),
  });
  await t.gw.start();
  t.port = Number(new URL(t.gw.apiUrl as string).port);
  const profile = { id: 'test', description: 'test', classes: ['grid_meter', 'parking_garage'], protocol: 'test', file: 'test' };
  t.gw.devices.add({ id: 'meter-1', class: 'grid_meter', connection: 'none', profile: 'test', tags: {}, options: {}, enabled: true }, profile, false);
  t.gw.devices.add({ id: 'gate-1', class: 'parking_garage', connection: 'none', profile: 'test', tags: {}, options: {}, enabled: true }, profile, false);
  await t.gw.ingestor.submit({
    readings: Array.from({ length: 10 }, (_, i) => ({ device: 'meter-1', metric: 'power', value: 4000 + i, ts: T0 + i * 1000 })),
    events: [{ device: 'gate-1', type: 'vehicle_entry', ts: T0, attributes: { vehicle: '浙A12345', gate: 'north' } }],
  });
  return t;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

/**
 * One HTTP request with its path sent byte for byte as given (no URL normalisation, unlike
 * inject or fetch). An event stream is closed once its headers arrived.
 */
export function rawRequest(
  port: number,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; localAddress?: string; keepStream?: boolean } = {},
): Promise<RawResponse & { close(): void }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: opts.method ?? 'GET',
        headers: opts.headers ?? {},
        ...(opts.localAddress ? { localAddress: opts.localAddress } : { agent }),
      },
      (res) => {
        const base = { status: res.statusCode ?? 0, headers: res.headers, close: () => res.destroy() };
        if (String(res.headers['content-type']).includes('text/event-stream')) {
          if (!opts.keepStream) res.destroy();
          resolve({ ...base, body: '' });
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ ...base, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}
