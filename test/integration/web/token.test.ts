import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPeer } from '../../helpers/peers.js';
import { launchChromium, startWebGateway, watchedPage, type WebGateway } from './harness.js';

/**
 * A gateway with API tokens (as every one off loopback has): the dashboard's files load without
 * a token, its data does not. The page asks for a token instead of retrying forever, keeps it in
 * this browser, and then shows the gateway; a wrong token is refused and asked for again.
 */
const CHROMIUM = findPeer('chromium', ['/usr/bin/chromium', 'chromium']);
const TOKEN = 'dashboard-read-token-0123456789';

describe.skipIf(!CHROMIUM)('the dashboard behind API tokens', () => {
  let wg: WebGateway;
  let chromium: Awaited<ReturnType<typeof launchChromium>>;
  beforeAll(async () => {
    wg = await startWebGateway('', [TOKEN]);
    chromium = await launchChromium(CHROMIUM as string);
  });
  afterAll(async () => {
    await chromium?.cleanup();
    await wg?.stop();
  });

  it('asks for the token, refuses a wrong one, and opens with the right one (both languages)', async () => {
    const w = await watchedPage(chromium.browser, wg.url, { locale: 'en-US' });
    await w.page.goto(`${wg.url}/#devices`);
    await w.page.waitForSelector('#auth:not([hidden])');
    expect(await w.page.textContent('#auth-text')).toBe('This gateway asks for an access token. Ask its operator for a read token.');
    expect(await w.page.isHidden('#error')).toBe(true);

    await w.page.fill('#auth-token', 'not-the-token-0123456789');
    await w.page.click('#auth-save');
    await w.page.waitForSelector('#auth:not([hidden])');
    expect(await w.page.textContent('#auth-text')).toBe('The saved token was refused. Enter another.');

    await w.page.fill('#auth-token', TOKEN);
    await w.page.click('#auth-save');
    await w.page.waitForSelector('body[data-ready="1"]');
    expect(await w.page.isHidden('#auth')).toBe(true);
    // The live stream carries the token in its query (EventSource sends no headers) and is accepted.
    await w.page.waitForFunction(() => document.querySelector('#live')?.className.includes('live-open'));
    expect(w.foreign).toEqual([]);
    // The only errors are the refused requests before the token was given.
    expect(w.errors.filter((e) => !/401|403/.test(e))).toEqual([]);

    const zh = await watchedPage(chromium.browser, wg.url, { locale: 'zh-CN' });
    await zh.page.goto(`${wg.url}/`);
    await zh.page.waitForSelector('#auth:not([hidden])');
    expect(await zh.page.textContent('#auth-text')).toBe('此网关需要访问令牌。请向网关管理员索取只读令牌。');
  }, 60_000);
});
