// The page trains and renders in headless Chromium on webgl (software, SwiftShader, where there is no GPU): a tiny
// run (32 px, ngf 4, two steps), losses drawn, translations drawn, nothing thrown.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findChromium, launchChromium, type Browser } from '../../packages/core/src/testing/browser';
import { serveDist } from './serve.mjs';

const chromium = findChromium();
const mustRun = process.env.CI != null && process.env.CI !== '' && process.env.CI !== 'false';
const suite = chromium != null || mustRun ? describe : describe.skip;

suite(`the training page in headless Chromium${chromium == null ? ' (skipped: no chromium; apt-get install chromium)' : ''}`, () => {
  let browser: Browser;
  let server: { url: string; close: () => void };

  beforeAll(async () => {
    if (chromium == null) throw new Error('no chromium found (apt-get install chromium, or set CHROMIUM_PATH)');
    if (!existsSync(new URL('./dist/main.js', import.meta.url))) throw new Error('dist/ is not built: npm run build');
    server = await serveDist();
    browser = await launchChromium(chromium);
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  test('trains two steps on webgl and shows losses and translations', async () => {
    const { page } = browser;
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}?backend=webgl&steps=2&size=32&ngf=4&every=1&autostart`, { waitUntil: 'commit' });
    await page.waitForFunction(() => document.body.dataset.done === 'true' || document.body.dataset.error != null, null, { timeout: 600_000 });
    expect(await page.evaluate(() => document.body.dataset.error ?? null)).toBeNull();
    expect(errors).toEqual([]);
    expect(await page.textContent('#backend-line')).toMatch(/^backend webgl on .*, (software|hardware)$/);
    expect(await page.textContent('#status')).toMatch(/^step 2\/2 · [\d.]+ steps\/s · \d+ tensors · done$/);
    expect(await page.textContent('#measures')).toMatch(/^after 2 steps: content kept [\d.]+, domain changed [\d.]+$/);
    // Each test image: input, translation, target, all drawn (not blank).
    const drawn = await page.evaluate(() =>
      Array.from(document.querySelectorAll('#grid canvas')).map((c) => {
        const canvas = c as HTMLCanvasElement;
        const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
        return canvas.width === 32 && data.some((v, i) => i % 4 !== 3 && v !== data[0]);
      }),
    );
    expect(drawn).toHaveLength(12);
    expect(drawn.every(Boolean)).toBe(true);
  }, 900_000);
});
