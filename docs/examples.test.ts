// The docs' in-browser examples, run in headless Chromium against the built site (docs/.vitepress/dist):
// `npm run docs:test` builds it first. QSATTN_SCREENSHOTS=DIR saves what the browser shows.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launchChromium, pageWithErrors, type OpenBrowser } from '../packages/viz/src/testing/browser';

const dist = fileURLToPath(new URL('./.vitepress/dist/', import.meta.url));
const screenshots = process.env.QSATTN_SCREENSHOTS;
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json', '.svg': 'image/svg+xml', '.safetensors': 'application/octet-stream' };

let server: Server;
let base: string;
let browser: OpenBrowser;

beforeAll(async () => {
  if (!existsSync(join(dist, 'index.html'))) throw new Error(`${dist} has no built site: run npm run docs:build first (npm run docs:test does)`);
  server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    let file = join(dist, path);
    if (file.endsWith('/')) file = join(file, 'index.html');
    if (!existsSync(file)) return void res.writeHead(404).end('not found');
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  server?.close();
});

describe('docs examples in headless Chromium', () => {
  test.each([
    ['translate', 'translate.html', 4 + 2],
    ['qs-module', 'qs-module.html', 3],
  ])('%s runs and shows its result', async (name, page, canvases) => {
    const { page: tab, errors } = await pageWithErrors(browser);
    await tab.goto(`${base}/examples/${page}`);
    await tab.waitForSelector('.qs-demo[data-done="true"]', { timeout: 120_000 });
    const status = await tab.textContent('.qs-status');
    expect(status).toMatch(/on (webgpu|webgl|wasm)/);
    // Every canvas has been drawn on: not blank.
    const drawn = await tab.evaluate(() =>
      Array.from(document.querySelectorAll('.qs-demo canvas')).filter((c) => {
        const canvas = c as HTMLCanvasElement;
        if (canvas.width === 0) return false;
        const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
        return new Set(Array.from(data.subarray(0, 4000))).size > 4;
      }).length,
    );
    if (screenshots) await tab.screenshot({ path: join(screenshots, `docs-${name}.png`), fullPage: true });
    expect(errors).toEqual([]);
    expect(drawn).toBe(canvases);
  });

  test('the CLI and API references are there', async () => {
    const cli = readFileSync(join(dist, 'reference', 'cli.html'), 'utf8');
    for (const command of ['train', 'test', 'report', 'conformance']) expect(cli).toContain(`id="${command}"`);
    expect(cli).toContain('--dashboard');
    expect(existsSync(join(dist, 'api', 'index.html'))).toBe(true);
    // The GPU work's standalone training page, included by scripts/docs-include-examples.mjs.
    expect(existsSync(join(dist, 'train-in-browser', 'index.html'))).toBe(true);
  });
});
