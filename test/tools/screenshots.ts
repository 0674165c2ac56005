// The README's dashboard pictures: the demo community on a summer day (simulated from 08:30 local
// at SHOT_SPEED×, so PV, battery and heat pumps have a morning behind them), photographed in
// Debian Chromium. `node --import tsx test/tools/screenshots.ts` writes docs/dashboard-*.png.
import { join } from 'node:path';
import { Gateway } from '../../gateway/app.js';
import { parseConfig } from '../../gateway/config/load.js';
import { createLogger } from '../../gateway/runtime/log.js';
import { relocatedDemo } from '../helpers/demo.js';
import { findPeer, tempDir } from '../helpers/peers.js';
import { launchChromium, watchedPage } from '../integration/web/harness.js';

const SPEED = Number(process.env['SHOT_SPEED'] ?? 60);
const WAIT_S = Number(process.env['SHOT_WAIT'] ?? 240);
const chromiumPath = findPeer('chromium', ['/usr/bin/chromium', 'chromium']);
if (!chromiumPath) throw new Error('needs Debian chromium');

const dir = tempDir('fcgw-shots-');
const { text } = await relocatedDemo(dir.dir, (doc) => {
  doc.setIn(['api', 'port'], 0);
  doc.setIn(['logging', 'level'], 'warn');
  doc.setIn(['simulators', 'speed'], SPEED);
  doc.setIn(['simulators', 'start'], '2026-06-16T08:30:00+08:00');
});
const gw = Gateway.create({ config: parseConfig(text, 'shots.yaml', {}), log: createLogger({ level: 'warn' }), env: { FCGW_SITE_SECRET: 's'.repeat(32) } });
await gw.start();
const url = gw.apiUrl as string;
console.log(`demo at ${SPEED}× from 08:30; waiting ${WAIT_S} s`);
await new Promise((r) => setTimeout(r, WAIT_S * 1000));
const chromium = await launchChromium(chromiumPath);
try {
  const out = join(import.meta.dirname, '../../docs');
  for (const [view, locale] of [['energy', 'en-US'], ['energy', 'zh-CN'], ['parking', 'en-US'], ['targets', 'en-US']] as const) {
    const w = await watchedPage(chromium.browser, url, { locale });
    await w.page.goto(`${url}/#${view}`);
    await w.page.locator(`main[data-view="${view}"] .card`).first().waitFor();
    await w.page.waitForTimeout(3000);
    const file = join(out, `dashboard-${view}${locale === 'zh-CN' ? '-zh' : ''}.png`);
    await w.page.screenshot({ path: file });
    console.log(file);
    await w.context.close();
  }
} finally {
  await chromium.cleanup();
  await gw.stop();
  dir.cleanup();
}
