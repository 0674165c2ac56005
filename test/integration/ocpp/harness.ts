import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { createLogger } from '../../../gateway/runtime/log.js';
import type { OcppDriver } from '../../../drivers/ocpp/driver.js';

export const PASSWORD = 'cp001-secret-0123456789';
export const SHARED = 'shared-secret-abcdefghij';

/** A real gateway (SQLite store in `dir`) with one OCPP connection on a free port; its log as text. */
export async function ocppGateway(dir: string, yaml: string): Promise<{ gw: Gateway; url: string; log: () => string }> {
  const config = parseConfig(
    `version: 1
site: { id: ocpp }
store: { path: ${join(dir, 'gw.db')} }
logging: { level: debug }
api: { host: 127.0.0.1, port: 0 }
${yaml}`,
    'test.yaml',
    {},
  );
  let log = '';
  const destination = new Writable({
    write(chunk: Buffer, _e, cb) {
      log += chunk.toString();
      cb();
    },
  });
  const gw = Gateway.create({ config, log: createLogger({ level: 'debug', destination }), processMetrics: false, env: { FCGW_SITE_SECRET: 's'.repeat(32) } });
  await gw.start();
  const d = gw.driver('chargers') as OcppDriver | undefined;
  const a = d?.address();
  if (!a) throw new Error('the OCPP driver is not listening');
  return { gw, url: `ws://127.0.0.1:${a.port}/ocpp`, log: () => log };
}
