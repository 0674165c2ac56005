import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page, type Request } from 'playwright-core';
import type { Document } from 'yaml';
import { Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { createLogger } from '../../../gateway/runtime/log.js';
import { relocatedDemo } from '../../helpers/demo.js';
import { tempDir } from '../../helpers/peers.js';

/** Where screenshots and figures go (test/artifacts is gitignored). */
export const ARTIFACTS = fileURLToPath(new URL('../../artifacts/web/', import.meta.url));

export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}

export interface WebGateway {
  gw: Gateway;
  url: string;
  stop(): Promise<void>;
}

/** A real gateway (the dashboard is part of its API) on a free loopback port, on a temp store. */
export async function startWebGateway(extraYaml = '', apiTokens: readonly string[] = []): Promise<WebGateway> {
  const dir = tempDir('fcgw-web-');
  const text = `version: 1
site: { id: webtest, name: 莲花未来社区 (test), timezone: Asia/Shanghai, residents: 3100 }
store: { path: ${join(dir.dir, 'gw.db')} }
api: { host: 127.0.0.1, port: 0, tokens: [${apiTokens.join(', ')}] }
logging: { level: silent }
${extraYaml}`;
  return startFromYaml(text, dir);
}

/**
 * The demo community (config/demo.yaml: simulators on, every demo device) on free ports and a
 * temp store, its simulated clock `speed` times faster than the wall clock.
 */
export async function startDemoGateway(speed: number, edit?: (doc: Document) => void): Promise<WebGateway> {
  const dir = tempDir('fcgw-web-demo-');
  const { text } = await relocatedDemo(dir.dir, (doc) => {
    doc.setIn(['api', 'port'], 0);
    doc.setIn(['logging', 'level'], 'silent');
    doc.setIn(['simulators', 'speed'], speed);
    // Target evaluation (alerts) is not what these tests look at; the API computes KPIs on request.
    doc.setIn(['kpi', 'evaluate_every'], '1h');
    edit?.(doc);
  });
  return startFromYaml(text, dir);
}

async function startFromYaml(text: string, dir: { dir: string; cleanup: () => void }): Promise<WebGateway> {
  const config = parseConfig(text, 'web-test.yaml', {});
  const gw: Gateway = Gateway.create({
    config,
    log: createLogger({ level: 'silent' }),
    processMetrics: false,
    env: { FCGW_SITE_SECRET: 'w'.repeat(32) },
  });
  await gw.start();
  const url = gw.apiUrl;
  if (!url) throw new Error('the gateway has no API address');
  return {
    gw,
    url,
    stop: async () => {
      await gw.stop();
      dir.cleanup();
    },
  };
}

/**
 * The Chromium the issue names, headless and offline-minded. chromium.launch gives every
 * browser a new empty user-data dir of its own (it refuses a --user-data-dir argument).
 */
export async function launchChromium(executablePath: string): Promise<{ browser: Browser; cleanup: () => Promise<void> }> {
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    browser,
    cleanup: async () => {
      await browser.close();
    },
  };
}

export interface Watched {
  page: Page;
  context: BrowserContext;
  errors: string[];
  foreign: string[];
  requests: number;
}

/**
 * A page that records console errors, page errors and every request that leaves the
 * gateway's own loopback origin (there must be none).
 */
export async function watchedPage(browser: Browser, origin: string, opts: { locale?: string; viewport?: { width: number; height: number } } = {}): Promise<Watched> {
  const context = await browser.newContext({ locale: opts.locale ?? 'zh-CN', viewport: opts.viewport ?? { width: 1366, height: 768 }, timezoneId: 'Asia/Shanghai' });
  const page = await context.newPage();
  const w: Watched = { page, context, errors: [], foreign: [], requests: 0 };
  page.on('console', (m) => {
    if (m.type() === 'error') w.errors.push(m.text());
  });
  page.on('pageerror', (e) => w.errors.push(`pageerror: ${e.message}`));
  const onRequest = (r: Request) => {
    w.requests += 1;
    if (!r.url().startsWith(`${origin}/`) && !r.url().startsWith('data:')) w.foreign.push(r.url());
  };
  context.on('request', onRequest);
  return w;
}

