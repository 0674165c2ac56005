import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store } from '../../../gateway/store/store.js';
import { startGatewayProcess } from '../../helpers/gateway-process.js';
import { tempDir } from '../../helpers/peers.js';

describe('fcgw start as a process', () => {
  it('serves health, stops cleanly on SIGTERM with exit 0, and leaves a store that opens', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const cfg = join(dir, 'gw.yaml');
      const db = join(dir, 'gw.db');
      writeFileSync(cfg, `version: 1\nsite: { id: proc-test }\nstore: { path: ${db} }\napi: { port: 0 }\nbroker: { embedded: { port: 0 } }\nlogging: { level: info, pretty: false }\n`);
      const gw = await startGatewayProcess(cfg);
      const health = (await (await fetch(`${gw.apiUrl}/api/health`)).json()) as { status: string; broker: { url: string } };
      expect(health.status).toBe('ok');
      expect(health.broker.url).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
      gw.proc.kill('SIGTERM');
      expect(await gw.exited).toEqual({ code: 0, signal: null });
      expect(gw.stdout()).toContain('"msg":"gateway stopped"');
      const store = Store.open({ path: db, site: 'proc-test' });
      expect(store.integrityCheck()).toBe('ok');
      store.close();
    } finally {
      cleanup();
    }
  });

  it('on an error nothing caught, logs it with its stack, stops cleanly and exits 1', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const cfg = join(dir, 'gw.yaml');
      const db = join(dir, 'gw.db');
      writeFileSync(cfg, `version: 1\nsite: { id: crash-test }\nstore: { path: ${db} }\napi: { port: 0 }\nlogging: { level: info, pretty: false }\n`);
      // A socket-like 'error' event with no listener, thrown from a timer once the gateway runs.
      const inject = join(dir, 'inject.mjs');
      writeFileSync(inject, "import { EventEmitter } from 'node:events';\nsetTimeout(() => new EventEmitter().emit('error', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })), 1500);\n");
      const gw = await startGatewayProcess(cfg, { NODE_OPTIONS: `--import ${inject}` });
      expect(await gw.exited).toEqual({ code: 1, signal: null });
      const fatal = gw
        .stdout()
        .split('\n')
        .filter((l) => l.includes('"level":60'))
        .map((l) => JSON.parse(l) as { msg: string; kind: string; err: { message: string; stack: string } });
      expect(fatal).toHaveLength(1);
      expect(fatal[0]).toMatchObject({ msg: 'unexpected error: the gateway stops and exits 1', kind: 'uncaughtException', err: { message: 'read ECONNRESET' } });
      expect(fatal[0]?.err.stack).toContain('inject.mjs');
      expect(gw.stdout()).toContain('"msg":"gateway stopped"');
      const store = Store.open({ path: db, site: 'crash-test' });
      expect(store.integrityCheck()).toBe('ok');
      store.close();
    } finally {
      cleanup();
    }
  });

  it('explains a bad config in one sentence per problem and exits 2, without a stack trace', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const cfg = join(dir, 'bad.yaml');
      writeFileSync(cfg, 'version: 1\nsite: { id: BAD ID }\n');
      const { spawnSync } = await import('node:child_process');
      const r = spawnSync(process.execPath, [join(import.meta.dirname, '../../../bin/fcgw.js'), 'start', '-c', cfg], { encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('site.id (line 2): must be lower-case letters');
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      cleanup();
    }
  });
});
