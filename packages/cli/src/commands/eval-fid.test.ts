import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '@qsattn/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FIXTURES, runCli } from '../testing/memory-io';
import { writeSeededInception } from '../testing/seeded-inception';

// eval --fid on a dataset without ground truth (as horse2zebra): the translations of testA against testB.
const IMAGES = new URL('../../../../testdata/fid/seed7/', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'qsattn-evalfid-'));
const dataroot = join(scratch, 'data');
const weights = join(scratch, 'inception.safetensors');
const generator = join(FIXTURES, 'pth', 'qs_ngf8_net_G.pth');
const fidFlags = ['--inception', weights, '--dims', '64', '--kid-subsets', '3', '--kid-subset-size', '2', '--cache-dir', join(scratch, 'cache'), '--backend', 'wasm'];

beforeAll(async () => {
  for (const [from, to] of [['a', 'testA'], ['b', 'testB']]) {
    mkdirSync(join(dataroot, to), { recursive: true });
    for (const f of readdirSync(join(IMAGES, from))) copyFileSync(join(IMAGES, from, f), join(dataroot, to, f));
  }
  await selectBackend('cpu');
  await writeSeededInception(weights, 7);
}, 120_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('qsattn eval --fid', () => {
  test('is qsattn fid between what qsattn test writes for testA and the real testB', async () => {
    const evaluated = await runCli('eval', '--checkpoint', generator, '--dataroot', dataroot, '--crop_size', '64', '--fid', '--json', ...fidFlags);
    expect(evaluated.code).toBe(0);
    const report = JSON.parse(evaluated.stdout);
    expect(report).toMatchObject({ images: 3, fid: { dims: 64, images: [3, 3], kid_subsets: 3, kid_subset_size: 2 } });
    expect(report.psnr).toBeUndefined(); // no testA_target/: FID and KID only

    const results = join(scratch, 'results');
    const tested = await runCli('test', '--checkpoint', generator, '--dataroot', dataroot, '--crop_size', '64', '--results_dir', results, '--backend', 'wasm');
    expect(tested.code).toBe(0);
    const fakes = join(results, 'qs_ngf8_net_G', 'test_latest', 'images', 'fake_B');
    const direct = await runCli('fid', fakes, join(dataroot, 'testB'), '--json', ...fidFlags);
    expect(direct.code).toBe(0);
    const fid = JSON.parse(direct.stdout);
    expect(fid.fid).toBe(report.fid.fid);
    expect(fid.kid).toBe(report.fid.kid);
    // testB came from the cache the second time
    expect(direct.stderr).toMatch(/testB: statistics of 3 images from the cache/);

    const text = await runCli('eval', '--checkpoint', generator, '--dataroot', dataroot, '--crop_size', '64', '--fid', ...fidFlags);
    expect(text.stdout).toContain(`  FID ${report.fid.fid.toFixed(6)}  (64 dims, 3 vs 3 images)\n  KID `);
  });

  test('a synthetic run is scored against its own synthetic testB, beside its ground-truth measures', async () => {
    const checkpoints = join(scratch, 'checkpoints');
    const trained = await runCli('train', '--checkpoints_dir', checkpoints, '--name', 'tiny', '--ngf', '4', '--ndf', '4', '--netF_nc', '16', '--num_patches', '16', '--max_dataset_size', '2', '--n_epochs', '1', '--n_epochs_decay', '1', '--max_steps', '2');
    expect(trained.code).toBe(0);
    const r = await runCli('eval', '--checkpoints_dir', checkpoints, '--name', 'tiny', '--num_test', '3', '--fid', '--json', ...fidFlags);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.images).toBe(3);
    expect(report.model.psnr).toBeGreaterThan(0);
    expect(report.fid.images[0]).toBe(3);
    expect(report.fid.images[1]).toBeGreaterThanOrEqual(3);
    expect(Number.isFinite(report.fid.fid)).toBe(true);
  });

  test('without --fid a dataset without testA_target/ is still an error that says so', async () => {
    const r = await runCli('eval', '--checkpoint', generator, '--dataroot', dataroot, '--crop_size', '64');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no testA_target/ folder with the ground-truth translations of testA/ (--fid scores a dataset without one)');
  });
});
