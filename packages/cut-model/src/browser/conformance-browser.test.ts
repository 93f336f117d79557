// The official training step replayed in headless Chromium on webgl and webgpu (software, SwiftShader, where there is
// no GPU). Slow there, so one recording per backend; every recording runs with `npm run conformance:browser`.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { bundleForBrowser, findChromium, launchChromium, serve, type Browser } from '../../../core/src/testing/browser';
import { TESTDATA } from '../testing/fixtures';

const chromium = findChromium();
const mustRun = process.env.CI != null && process.env.CI !== '' && process.env.CI !== 'false';
// Small recordings (32 px, ngf 4; the official 64-px ones take minutes each on SwiftShader), the three QS modes
// spread over the two backends.
const CASES: [backend: 'webgl' | 'webgpu', recording: string][] = [
  ['webgl', 'local_32x48_noaaup_nlayers2_nonsat'],
  ['webgl', 'global_p80_layers4_32'],
  ['webgpu', 'local_global_resnet6_vanilla_lambdas_T_32'],
];
const DIR = join(TESTDATA, 'fixtures-extra');
/** The float64 replay beside a recording, for the gradients that are float32 noise in the recording itself. */
const companion = (name: string): string | undefined => {
  const path = join(DIR, 'float64', `${name}.safetensors`);
  return existsSync(path) ? path : undefined;
};

interface PageReport {
  backend: string;
  seconds: number;
  leaked: number;
  float32: boolean;
  ok: boolean;
  rows: { group: string; error: number; tolerance: number; ok: boolean }[];
  flipped: string[];
}

const suite = chromium != null ? describe : mustRun ? describe : describe.skip;

suite(`in headless Chromium${chromium == null ? ' (skipped: no chromium; apt-get install chromium)' : ''}`, () => {
  let browser: Browser;
  let server: { url: string; close: () => Promise<void> };

  beforeAll(async () => {
    if (chromium == null) throw new Error('no chromium found (apt-get install chromium, or set CHROMIUM_PATH)');
    const script = await bundleForBrowser(fileURLToPath(new URL('./conformance-page.ts', import.meta.url)));
    const files: Record<string, string | { file: string }> = {
      '/index.html': '<!doctype html><meta charset="utf-8"><title>qsattn conformance</title><script type="module" src="/page.js"></script>',
      '/page.js': script,
    };
    for (const [, name] of CASES) {
      files[`/${name}.safetensors`] = { file: join(DIR, `${name}.safetensors`) };
      const truth = companion(name);
      if (truth !== undefined) files[`/float64/${name}.safetensors`] = { file: truth };
    }
    server = await serve(files);
    browser = await launchChromium(chromium);
    await browser.page.goto(server.url);
    await browser.page.waitForFunction(() => 'qsattnConformance' in globalThis);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  test.each(CASES)('%s: %s passes every row, leaking nothing', async (backend, name) => {
    const report = (await browser.page.evaluate(
      ([b, url, truth]) => (globalThis as unknown as { qsattnConformance(b: string, u: string, t: string | null): Promise<unknown> }).qsattnConformance(b, url, truth),
      [backend, `/${name}.safetensors`, companion(name) === undefined ? null : `/float64/${name}.safetensors`] as const,
    )) as PageReport;
    expect(report.backend).toMatch(new RegExp(`^backend ${backend} on .*, (software|hardware)$`));
    expect(report.float32).toBe(true);
    expect(report.rows.filter((r) => !r.ok), JSON.stringify(report, null, 1)).toEqual([]);
    expect(report.rows.map((r) => r.group)).toEqual(expect.arrayContaining(['loss', 'out.fake_B', 'nceA.pool_k', 'grad.G', 'after.F']));
    expect(report.leaked).toBe(0);
    console.log(`${name} on ${report.backend}: ${report.seconds.toFixed(0)} s${report.flipped.length ? `, branches replayed at ${report.flipped.join('; ')}` : ''}`);
  }, 1_200_000);
});
