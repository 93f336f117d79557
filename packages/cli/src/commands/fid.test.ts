import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { saveSafetensors, selectBackend } from '@qsattn/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fetchInceptionWeights } from '../run/fid-inputs';
import { runCli } from '../testing/memory-io';
import { writeSeededInception } from '../testing/seeded-inception';

// qsattn fid end to end on a pytorch-fid recording (testdata/fid/seed1: its weights seed, its folders).
const SEED1 = new URL('../../../../testdata/fid/seed1/', import.meta.url).pathname;
const recorded = JSON.parse(readFileSync(join(SEED1, 'record.json'), 'utf8'));
const scratch = mkdtempSync(join(tmpdir(), 'qsattn-fid-'));
const weights = join(scratch, 'seeded-inception.safetensors');
const cache = join(scratch, 'cache');
const common = ['--dims', '64', '--kid-subsets', '5', '--kid-subset-size', '3', '--backend', 'wasm', '--cache-dir', cache];

beforeAll(async () => {
  await selectBackend('cpu');
  await writeSeededInception(weights, recorded.weight_seed);
}, 120_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A mirror on 127.0.0.1 that serves `body` at /w.pth and 404 elsewhere. */
async function serveBytes(body: Uint8Array): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.url === '/w.pth') res.writeHead(200, { 'content-length': String(body.length) }).end(body);
    else res.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('qsattn fid', () => {
  test('agrees with pytorch-fid and torch-fidelity, then reads the folders back from the cache', async () => {
    const run = () => runCli('fid', join(SEED1, 'a'), join(SEED1, 'b'), '--inception', weights, '--json', ...common);
    const first = await run();
    expect(first.stderr).toMatch(/a: 4 images in/);
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout);
    expect(report).toMatchObject({ dims: 64, images: [4, 4], kid_subsets: 5, kid_subset_size: 3, method: 'sqrtm', eps_retry: false });
    const expected = recorded.results['64'];
    expect(Math.abs(report.fid - expected.fid) / expected.fid).toBeLessThan(1e-4);
    const scale = Math.max(Math.abs(expected.kid.mean), expected.kid.std);
    expect(Math.abs(report.kid - expected.kid.mean)).toBeLessThan(1e-3 * scale);
    expect(Math.abs(report.kid_std - expected.kid.std)).toBeLessThan(1e-3 * scale);

    const second = await run();
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/a: statistics of 4 images from the cache/);
    expect(second.stderr).not.toMatch(/images in/);
    expect(JSON.parse(second.stdout)).toEqual(report);

    // a cached file stands in for its folder, as pytorch-fid's .npz statistics do
    const files = readdirSync(join(cache, 'fid-stats'));
    expect(files).toHaveLength(2);
    const statsA = join(cache, 'fid-stats', files.find((f) => f.startsWith('a-64-'))!);
    const fromFile = await runCli('fid', statsA, join(SEED1, 'b'), '--inception', weights, ...common);
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout).toContain(`FID ${report.fid.toFixed(6)}  (64 dims, 4 vs 4 images)`);
  });

  test('--save-stats writes the statistics as pytorch-fid does, and refuses to overwrite', async () => {
    const out = join(scratch, 'a-stats.npz');
    const saved = await runCli('fid', '--save-stats', join(SEED1, 'a'), out, '--inception', weights, ...common);
    expect(saved.code).toBe(0);
    expect(saved.stdout).toContain(`wrote ${out} (64 dims)`);
    const compared = await runCli('fid', out, join(SEED1, 'b'), '--inception', weights, '--json', ...common);
    const expected = recorded.results['64'];
    expect(Math.abs(JSON.parse(compared.stdout).fid - expected.fid) / expected.fid).toBeLessThan(1e-4);
    const again = await runCli('fid', '--save-stats', join(SEED1, 'a'), out, '--inception', weights, ...common);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`${out}: exists already; --save-stats writes a new file`);
  });

  test('downloads missing weights into the cache and deletes a download that is not the official file', async () => {
    const mirror = await serveBytes(new TextEncoder().encode('not the weights'));
    try {
      const empty = join(scratch, 'download-cache');
      const r = await runCli('fid', join(SEED1, 'a'), join(SEED1, 'b'), '--dims', '64', '--cache-dir', empty, '--backend', 'cpu', '--inception-url', `${mirror.url}/w.pth`);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`downloading the FID Inception weights from ${mirror.url}/w.pth`);
      expect(r.stderr).toMatch(/w\.pth: sha256 [0-9a-f]{8}… is not 6726825d… \(pytorch-fid's file\); the download was deleted: fetch /);
      expect(readdirSync(join(empty, 'weights'))).toEqual([]);
    } finally {
      await mirror.close();
    }
  });

  test('a download that fails says what to fetch and where', async () => {
    const mirror = await serveBytes(new Uint8Array(0));
    try {
      const empty = join(scratch, 'failed-cache');
      const r = await runCli('fid', join(SEED1, 'a'), join(SEED1, 'b'), '--dims', '64', '--cache-dir', empty, '--backend', 'cpu', '--inception-url', `${mirror.url}/missing.pth`);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('the FID Inception weights could not be downloaded: ');
      expect(r.stderr).toContain(`by hand and save it as ${join(empty, 'weights', 'pt_inception-2015-12-05-6726825d.pth')}, or pass --inception FILE`);
      expect(r.stderr.trim().split('\n').at(-1)).toMatch(/404/);
    } finally {
      await mirror.close();
    }
  });

  test('fetchInceptionWeights keeps a file whose sha256 has the expected prefix', async () => {
    const body = new TextEncoder().encode('weights of some other Inception');
    const prefix = createHash('sha256').update(body).digest('hex').slice(0, 8);
    const mirror = await serveBytes(body);
    try {
      const path = join(scratch, 'fetched', 'w.pth');
      expect(await fetchInceptionWeights(`${mirror.url}/w.pth`, path, prefix)).toBe(path);
      expect(new Uint8Array(readFileSync(path))).toEqual(body);
      expect(readdirSync(join(scratch, 'fetched'))).toEqual(['w.pth']);
    } finally {
      await mirror.close();
    }
  });

  test('a cached weights file whose sha256 is not the official one is refused', async () => {
    const bad = join(scratch, 'bad-cache');
    mkdirSync(join(bad, 'weights'), { recursive: true });
    writeFileSync(join(bad, 'weights', 'pt_inception-2015-12-05-6726825d.pth'), 'not the weights');
    const r = await runCli('fid', join(SEED1, 'a'), join(SEED1, 'b'), '--dims', '64', '--cache-dir', bad, '--backend', 'cpu');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/pt_inception-2015-12-05-6726825d\.pth: sha256 [0-9a-f]{8}… is not 6726825d… \(pytorch-fid's file\): delete it and fetch/);
  });

  test('bad input is one line and a non-zero exit', async () => {
    const missing = await runCli('fid', join(scratch, 'nope'), join(SEED1, 'b'), '--inception', weights, ...common);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`${join(scratch, 'nope')}: no such folder (give a folder of images or an .npz statistics file)`);
    const dims = await runCli('fid', join(SEED1, 'a'), join(SEED1, 'b'), '--dims', '100');
    expect(dims.code).toBe(2);
    expect(dims.stderr).toMatch(/unknown dims '100'/);
    const one = await runCli('fid', join(SEED1, 'a'));
    expect(one.code).toBe(2);
    expect(one.stderr).toContain('give two image folders (or .npz statistics files): qsattn fid DIR_A DIR_B');
    const notWeights = join(scratch, 'not-inception.safetensors');
    await saveSafetensors(notWeights, { 'fc.weight': tf.zeros([1000, 2048]) });
    const wrong = await runCli('fid', join(SEED1, 'a'), join(SEED1, 'b'), '--inception', notWeights, ...common);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/not-inception\.safetensors: not the FID Inception weights \(missing Conv2d_1a_3x3\.conv\.weight/);
    const empty = join(scratch, 'no-images');
    mkdirSync(empty);
    writeFileSync(join(empty, 'notes.txt'), 'x');
    const none = await runCli('fid', empty, join(SEED1, 'b'), '--inception', weights, ...common);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`${empty}: no images (*.bmp, *.jpg`);
    const broken = join(scratch, 'broken');
    mkdirSync(broken);
    for (const f of readdirSync(join(SEED1, 'a'))) writeFileSync(join(broken, f), readFileSync(join(SEED1, 'a', f)));
    writeFileSync(join(broken, 'zz.png'), 'not a png');
    const bad = await runCli('fid', broken, join(SEED1, 'b'), '--inception', weights, ...common);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^qsattn fid: .*broken\/zz\.png: not a readable PNG, JPEG or WebP image \(.*\); replace or delete it \(FID reads every image of the folder\)$/m);
  });
});
