import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { createLogger } from '../../../gateway/runtime/log.js';
import type { CommandResponder } from '../../../simulators/transport/commands.js';
import { findPeer, tempDir } from '../../helpers/peers.js';
import { ADMIN, READ, controlSite } from '../control/site.js';
import { launchChromium, watchedPage } from './harness.js';

/**
 * The property manager's buttons: a barrier's "open" and a locker's "unlock" on the device's
 * page, each confirmed before it is sent, asking for an admin token when the saved one only
 * reads, and reporting the device's confirmation; in English and Chinese. Real Chromium, real
 * gateway, simulated gates and lockers over the embedded broker.
 */
const CHROMIUM = findPeer('chromium', ['/usr/bin/chromium', 'chromium']);

describe.skipIf(!CHROMIUM)('dashboard commands', () => {
  const t = tempDir('fcgw-web-cmd-');
  let gw: Gateway;
  let chromium: Awaited<ReturnType<typeof launchChromium>>;
  beforeAll(async () => {
    const site = await controlSite(t.dir);
    gw = Gateway.create({ config: parseConfig(site.yaml, site.file, {}), log: createLogger({ level: 'silent' }), processMetrics: false, env: { FCGW_SITE_SECRET: 'w'.repeat(32) } });
    await gw.start();
    chromium = await launchChromium(CHROMIUM as string);
  }, 30_000);
  afterAll(async () => {
    await chromium?.cleanup();
    await gw?.stop();
    t.cleanup();
  });
  const truth = () => (gw.simulators?.groups.find((g) => g.name === 'transport-commands') as CommandResponder).groundTruth();

  it('open a barrier: confirm, give the admin token, see it confirmed; cancel sends nothing (English)', async () => {
    const url = gw.apiUrl as string;
    const w = await watchedPage(chromium.browser, url, { locale: 'en-US' });
    await w.page.addInitScript((tk) => localStorage.setItem('fcgw.token', tk), READ);
    await w.page.goto(`${url}/#devices/gate-north`);
    await w.page.waitForSelector('.cmd-button[data-command="open"]');
    expect(await w.page.textContent('.cmd-button[data-command="open"]')).toBe('Open barrier');

    // Cancel: nothing goes out.
    await w.page.click('.cmd-button[data-command="open"]');
    expect(await w.page.textContent('.cmd-question')).toBe('Open the barrier gate-north now?');
    await w.page.click('.cmd-cancel');
    await w.page.waitForSelector('.cmd-button[data-command="open"]');
    expect((truth()['opened'] as Record<string, number>)['north']).toBeUndefined();

    // Confirm with the read token: refused, the admin token is asked for, then it goes through.
    await w.page.click('.cmd-button[data-command="open"]');
    await w.page.click('.cmd-confirm');
    await w.page.waitForSelector('.cmd-token');
    expect(await w.page.textContent('.cmd-status')).toBe('Commands need an admin token. Enter it to send this one.');
    await w.page.fill('.cmd-token', ADMIN);
    await w.page.click('.cmd-token-send');
    await w.page.waitForSelector('.cmd-status.cmd-ok');
    expect(await w.page.textContent('.cmd-status')).toBe('Barrier gate-north opened (confirmed by the gate).');
    expect((truth()['opened'] as Record<string, number>)['north']).toBe(1);
    const row = gw.control?.audit.list({ device: 'gate-north' })[0];
    expect(row).toMatchObject({ status: 'succeeded', caller: 'ops-desk', command: 'open' });
    expect(w.errors.filter((e) => !/403/.test(e))).toEqual([]);
    expect(w.foreign).toEqual([]);
  }, 60_000);

  it('unlock one locker compartment, in Chinese; a malformed compartment is refused on the page', async () => {
    const url = gw.apiUrl as string;
    const w = await watchedPage(chromium.browser, url, { locale: 'zh-CN' });
    await w.page.addInitScript((tk) => {
      localStorage.setItem('fcgw.token', tk);
    }, ADMIN);
    await w.page.goto(`${url}/#devices/locker-1`);
    await w.page.waitForSelector('.cmd-button[data-command="unlock"]');
    expect(await w.page.textContent('.cmd-button[data-command="unlock"]')).toBe('开箱');
    await w.page.fill('.cmd-value[data-command="unlock"]', 'A1;x');
    await w.page.click('.cmd-button[data-command="unlock"]');
    expect(await w.page.textContent('.cmd-status')).toBe('“A1;x”不是格口编号（字母-数字，如 A-12）。');
    await w.page.fill('.cmd-value[data-command="unlock"]', 'C-03');
    await w.page.click('.cmd-button[data-command="unlock"]');
    expect(await w.page.textContent('.cmd-question')).toBe('确定现在打开 locker-1 的格口 C-03？');
    await w.page.click('.cmd-confirm');
    await w.page.waitForSelector('.cmd-status.cmd-ok');
    expect(await w.page.textContent('.cmd-status')).toBe('locker-1 的格口 C-03 已打开（快递柜已确认）。');
    expect(truth()['unlocked']).toEqual([expect.objectContaining({ bank: '1', compartment: 'C-03' })]);
    expect(w.errors).toEqual([]);
  }, 60_000);
});
