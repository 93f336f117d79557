// Opens the built page in headless Chromium, trains, and saves a screenshot once the run ends.
// Usage: npx tsx screenshot.ts OUT.png [query], e.g. 'backend=webgpu&steps=300' (default: webgl, 40 steps, 32 px).
import { findChromium, launchChromium } from '../../packages/core/src/testing/browser';
import { serveDist } from './serve.mjs';

const [out = 'train-in-browser.png', query = 'backend=webgl&steps=40&size=32&ngf=8&every=10'] = process.argv.slice(2);
const chromium = findChromium();
if (chromium == null) throw new Error('no chromium found (apt-get install chromium, or set CHROMIUM_PATH)');
const server = await serveDist();
const browser = await launchChromium(chromium);
try {
  const { page } = browser;
  await page.setViewportSize({ width: 1000, height: 760 });
  await page.goto(`${server.url}?${query}&autostart`, { waitUntil: 'commit' });
  await page.waitForFunction(() => document.body.dataset.done === 'true' || document.body.dataset.error != null, null, { timeout: 0 });
  await page.screenshot({ path: out, fullPage: true });
  console.log(`${await page.textContent('#backend-line')}\n${await page.textContent('#status')}\n${await page.textContent('#measures')}\nsaved ${out}`);
} finally {
  await browser.close();
  server.close();
}
