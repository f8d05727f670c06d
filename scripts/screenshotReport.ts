/**
 * A screenshot of a self-contained happysad report page (the README's docs/video-report.png), taken
 * with Debian's Chromium through playwright-core:
 *
 *   node --import tsx scripts/makeDemoVideo.ts demo.mp4 && npx happysad predict demo.mp4 --smooth 1 --report demo-report/
 *   node --import tsx scripts/screenshotReport.ts demo-report/report.html docs/video-report.png [--width 820]
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { launchChromium } from '../testkit/chromium.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { width: { type: 'string', default: '820' } } });
if (positionals.length !== 2) {
  console.error('usage: node --import tsx scripts/screenshotReport.ts REPORT.html OUT.png [--width 820]');
  process.exit(2);
}
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: Number(values.width), height: 800 } });
  await page.goto(`file://${resolve(positionals[0]!)}`);
  await page.screenshot({ path: resolve(positionals[1]!), fullPage: true });
} finally {
  await browser.close();
}
