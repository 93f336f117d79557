// The run report, `qsattn report`, `train --dashboard` and `test --explain`, end to end on one tiny run, with the
// pages rendered in headless Chromium. QSATTN_SCREENSHOTS=DIR saves what the browser shows.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { main } from '../main';
import { runCli } from '../testing/memory-io';
import { CHROMIUM, launchChromium, pageWithErrors } from '../../../viz/src/testing/browser';

const scratch = mkdtempSync(join(tmpdir(), 'qsattn-report-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const screenshots = process.env.QSATTN_SCREENSHOTS;
if (screenshots) mkdirSync(screenshots, { recursive: true });
const shot = (name: string): string | undefined => (screenshots ? join(screenshots, name) : undefined);

// The official NCE layers, so that QS-Attn selects at two of them (12 and 16); synth-quick reads 0,4,8,12 only.
const TINY = ['--ngf', '4', '--ndf', '4', '--netF_nc', '16', '--num_patches', '16', '--nce_layers', '0,4,8,12,16', '--max_dataset_size', '6', '--n_epochs', '1', '--n_epochs_decay', '1', '--save_epoch_freq', '1'];
const RUN = 'viz';
const runDir = join(scratch, RUN);

describe.skipIf(!existsSync(CHROMIUM))('the run report and the live dashboard', () => {
  test('train --dashboard streams growing curves and images; the run folder gets a report that renders cleanly', async () => {
    const browser = await launchChromium();
    try {
      let stdout = '';
      let stderr = '';
      const training = main(['train', '--checkpoints_dir', scratch, '--name', RUN, '--backend', 'wasm', ...TINY, '--dashboard', '--port', '0'], {
        stdout: { write: (t: string) => (stdout += t) },
        stderr: { write: (t: string) => (stderr += t) },
      });
      let url: string | undefined;
      while (url === undefined) {
        url = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout)?.[1];
        if (url === undefined) await new Promise((r) => setTimeout(r, 50));
      }
      const { page, errors } = await pageWithErrors(browser);
      await page.goto(url);
      await page.waitForFunction(() => (window as unknown as { dashboard: { rows: number } }).dashboard.rows > 0, undefined, { timeout: 60_000 });
      const first = await page.evaluate(() => (window as unknown as { dashboard: { rows: number } }).dashboard.rows);
      const firstPath = await page.evaluate(() => document.querySelector('#curves path[aria-roledescription="line mark"], #curves .mark-line path')?.getAttribute('d')?.length ?? 0);
      await page.waitForFunction((n) => (window as unknown as { dashboard: { rows: number } }).dashboard.rows > n + 20, first, { timeout: 60_000 });
      await page.waitForFunction(() => (document.getElementById('grid') as HTMLImageElement).naturalWidth > 0, undefined, { timeout: 60_000 });
      const grown = await page.evaluate(() => document.querySelector('#curves path[aria-roledescription="line mark"], #curves .mark-line path')?.getAttribute('d')?.length ?? 0);
      expect(grown).toBeGreaterThan(firstPath);
      expect(await page.locator('#maps img').count()).toBe(4);
      expect(await page.textContent('#step')).toMatch(/^step \d+ of 12/);
      if (shot('dashboard.png')) await page.screenshot({ path: shot('dashboard.png'), fullPage: true });
      expect(await training).toBe(0);
      await page.waitForFunction(() => document.getElementById('status')!.textContent === 'done', undefined, { timeout: 10_000 });
      expect(errors).toEqual([]);
      expect(stderr).toBe('');
      expect(stdout).toContain(`report: ${join(runDir, 'web', 'index.html')}`);

      const html = readFileSync(join(runDir, 'web', 'index.html'), 'utf8');
      expect(html).toContain('<span class="status done">done</span>');
      for (const metric of ['D_real', 'D_fake', 'G_GAN', 'NCE', 'NCE_Y', 'learning rate', 'step time (s)']) expect(html).toContain(`>${metric}</text>`);
      expect(html).not.toMatch(/<script/);
      // Snapshots of both numbered checkpoints, each with the grid and two maps per QS layer (layers 12 and 16).
      const images = readdirSync(join(runDir, 'web', 'images')).sort();
      for (const key of ['epoch_1', 'epoch_2']) {
        expect(images).toEqual(expect.arrayContaining([`${key}_grid.png`, `${key}_layer12_entropy.png`, `${key}_layer12_attention.png`, `${key}_layer16_entropy.png`, `${key}_layer16_attention.png`]));
      }
      const report = await pageWithErrors(browser);
      await report.page.goto(`file://${join(runDir, 'web', 'index.html')}`);
      const loaded = await report.page.evaluate(() => Array.from(document.images).filter((i) => i.complete && i.naturalWidth > 0).length);
      // Two snapshots (epochs 1 and 2), each a grid and four maps.
      expect(loaded).toBe(10);
      expect(await report.page.locator('#curves svg').count()).toBe(1);
      if (shot('report.png')) await report.page.screenshot({ path: shot('report.png'), fullPage: true });
      expect(report.errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  test('qsattn report rebuilds the report from the folder alone', async () => {
    rmSync(join(runDir, 'web'), { recursive: true });
    const { code, stdout, stderr } = await runCli('report', RUN, '--checkpoints_dir', scratch, '--backend', 'wasm');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('3 checkpoint(s)');
    const html = readFileSync(join(runDir, 'web', 'index.html'), 'utf8');
    expect(html).toContain('epoch 2 (step 12)');
    expect(html).toContain('epoch 1 (step 6)');
    expect(html).toContain('status done');
  });

  test('test --explain puts each translation beside its selection maps', async () => {
    const results = join(scratch, 'results');
    const { code, stderr } = await runCli('test', '--name', RUN, '--checkpoints_dir', scratch, '--results_dir', results, '--num_test', '3', '--explain', '--backend', 'wasm');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const dir = join(results, RUN, 'test_latest');
    const columns = ['real_A', 'fake_B', 'layer12_entropy', 'layer12_attention', 'layer16_entropy', 'layer16_attention'];
    for (const c of columns) expect(readdirSync(join(dir, 'images', c))).toHaveLength(3);
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    for (const c of columns) expect(html).toContain(`<th>${c}</th>`);
    const browser = await launchChromium();
    try {
      const { page, errors } = await pageWithErrors(browser);
      await page.goto(`file://${join(dir, 'index.html')}`);
      expect(await page.evaluate(() => Array.from(document.images).filter((i) => i.naturalWidth > 0).length)).toBe(18);
      if (shot('explain.png')) await page.screenshot({ path: shot('explain.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

describe('bad input', () => {
  test('report of a folder that is not a run, and --port without --dashboard, fail in one line', async () => {
    const missing = await runCli('report', 'nope', '--checkpoints_dir', scratch);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/no such run folder/);
    mkdirSync(join(scratch, 'empty'));
    const empty = await runCli('report', 'empty', '--checkpoints_dir', scratch);
    expect(empty.stderr).toMatch(/no options\.json/);
    const port = await runCli('train', '--checkpoints_dir', scratch, '--name', 'p', '--port', '9');
    expect(port.code).toBe(2);
    expect(port.stderr).toMatch(/give --dashboard as well/);
  });

  test('a busy dashboard port is an error before anything is written', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const busy = (blocker.address() as { port: number }).port;
    try {
      const { code, stderr } = await runCli('train', '--checkpoints_dir', scratch, '--name', 'busy', '--backend', 'wasm', ...TINY, '--dashboard', '--port', String(busy));
      expect(code).toBe(1);
      expect(stderr).toMatch(new RegExp(`port ${busy} .* is in use: choose another with --port`));
      expect(existsSync(join(scratch, 'busy'))).toBe(false);
    } finally {
      blocker.close();
    }
  });

  test('a report that cannot be written is a warning; the training finishes', async () => {
    const dir = join(scratch, 'noweb');
    mkdirSync(dir);
    writeFileSync(join(dir, 'web'), 'a file where the report folder goes');
    const { code, stderr } = await runCli('train', '--checkpoints_dir', scratch, '--name', 'noweb', '--backend', 'wasm', ...TINY, '--max_steps', '3');
    expect(code).toBe(0);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^warning: report: .*training goes on/);
    expect(existsSync(join(dir, 'latest_checkpoint.safetensors'))).toBe(true);
  });
});
