import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeImageFile } from '@qsattn/data';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FIXTURES, runCli } from '../testing/memory-io';

const scratch = mkdtempSync(join(tmpdir(), 'qsattn-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const PTH = join(FIXTURES, 'pth');
const INPUT = join(PTH, 'qs_ngf8_input.png');
const results = join(scratch, 'results');

/** Largest difference, in 8-bit levels, between two images of the same size, and how many values differ. */
async function compareImages(a: string, b: string): Promise<{ max: number; differing: number }> {
  const [x, y] = [await decodeImageFile(a), await decodeImageFile(b)];
  expect([x.width, x.height]).toEqual([y.width, y.height]);
  let max = 0;
  let differing = 0;
  for (let i = 0; i < x.data.length; i++) {
    const d = Math.abs(x.data[i] - y.data[i]);
    max = Math.max(max, d);
    if (d > 0) differing++;
  }
  return { max, differing };
}

// The official output is `tensor2im`'s: (x + 1) / 2 · 255 truncated to 8 bits. Our generator matches the official
// one to float rounding (SPEC: 1e-4 relative), so a value within that of an integer boundary may truncate to the
// level below or above: a difference of 1 in a handful of values, never more.
const expectOfficialOutput = async (path: string): Promise<void> => {
  const { max, differing } = await compareImages(path, join(PTH, 'qs_ngf8_expected_output.png'));
  expect(max).toBeLessThanOrEqual(1);
  expect(differing).toBeLessThan(64 * 64 * 3 * 0.01);
};

describe('qsattn test with official weights', () => {
  test('an official latest_net_G.pth given directly translates the input as the official code does', async () => {
    const { code, stdout, stderr } = await runCli('test', '--checkpoint', join(PTH, 'qs_ngf8_net_G.pth'), '--preprocess', 'none', INPUT, '--results_dir', results, '--backend', 'wasm');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('(weights; ngf 8, resnet_9blocks): translating 1 images (none, crop size 256)');
    const dir = join(results, 'qs_ngf8_net_G', 'test_latest');
    await expectOfficialOutput(join(dir, 'images', 'fake_B', 'qs_ngf8_input.png'));
    expect((await compareImages(join(dir, 'images', 'real_A', 'qs_ngf8_input.png'), INPUT)).max).toBe(0);
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    expect(html).toContain('<img src="images/real_A/qs_ngf8_input.png"');
    expect(html).toContain('<img src="images/fake_B/qs_ngf8_input.png"');
  });

  test('found the official way (--checkpoints_dir, --name, --epoch), official test-time resize to --crop_size', async () => {
    const run = join(scratch, 'official', 'horse2zebra');
    mkdirSync(run, { recursive: true });
    copyFileSync(join(PTH, 'qs_ngf8_net_G.pth'), join(run, '5_net_G.pth'));
    const { code, stderr } = await runCli('test', '--checkpoints_dir', join(scratch, 'official'), '--name', 'horse2zebra', '--epoch', '5', '--crop_size', '64', INPUT, '--results_dir', results);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    // A 64-px image resized to 64 is unchanged, so this is the official output again.
    await expectOfficialOutput(join(results, 'horse2zebra', 'test_5', 'images', 'fake_B', 'qs_ngf8_input.png'));
  });

  test('convert: .pth → our checkpoint (same translation) and → safetensors', async () => {
    const dir = join(scratch, 'convert');
    mkdirSync(dir);
    copyFileSync(join(PTH, 'qs_ngf8_net_G.pth'), join(dir, 'latest_net_G.pth'));
    const converted = await runCli('convert', join(dir, 'latest_net_G.pth'));
    expect(converted.stderr).toBe('');
    expect(converted.code).toBe(0);
    expect(converted.stdout).toContain('latest_checkpoint.safetensors: G from');
    const tested = await runCli('test', '--checkpoint', join(dir, 'latest_checkpoint.safetensors'), '--preprocess', 'none', INPUT, '--results_dir', results, '--name', 'converted');
    expect(tested.code).toBe(0);
    expect(tested.stdout).toContain('(checkpoint, step 0; ngf 8, resnet_9blocks)');
    await expectOfficialOutput(join(results, 'converted', 'test_latest', 'images', 'fake_B', 'qs_ngf8_input.png'));

    const plain = await runCli('convert', join(dir, 'latest_net_G.pth'), '--to', 'safetensors');
    expect(plain.code).toBe(0);
    expect(existsSync(join(dir, 'latest_net_G.safetensors'))).toBe(true);
    const fromPlain = await runCli('test', '--checkpoint', join(dir, 'latest_net_G.safetensors'), '--preprocess', 'none', INPUT, '--results_dir', results, '--name', 'plain');
    expect(fromPlain.code).toBe(0);
    await expectOfficialOutput(join(results, 'plain', 'test_latest', 'images', 'fake_B', 'qs_ngf8_input.png'));
  });

  test.each([
    ['a corrupt checkpoint', () => {
      const path = join(scratch, 'corrupt_net_G.pth');
      writeFileSync(path, readFileSync(join(PTH, 'qs_ngf8_net_G.pth')).subarray(0, 1000));
      return ['--checkpoint', path];
    }, 1, /^qsattn test: .*corrupt_net_G\.pth/],
    ['weights of another architecture', () => ['--checkpoint', join(PTH, 'qs_ngf8_net_G.pth'), '--ngf', '16'], 1, /^qsattn test: .*qs_ngf8_net_G\.pth.*'model\.1\.weight' has shape \[8, 3, 7, 7\], expected \[16, 3, 7, 7\]/],
    ['a missing run', () => ['--name', 'nothing', '--checkpoints_dir', scratch], 1, /^qsattn test: no checkpoint of epoch 'latest' in .*nothing: looked for .*latest_checkpoint\.safetensors and .*latest_net_G\.pth\n$/],
    ['no model at all', () => [], 2, /^qsattn test: give --name NAME \(a run folder under --checkpoints_dir\) or --checkpoint FILE\n$/],
    ['no images', () => ['--checkpoint', join(PTH, 'qs_ngf8_net_G.pth')], 2, /^qsattn test: give the images to translate: an image or folder, or --dataroot DIR/],
  ])('%s: one line, exit %#', async (_, args, exitCode, message) => {
    const { code, stderr } = await runCli('test', ...(args as () => string[])(), '--results_dir', results);
    expect(stderr).toMatch(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(code).toBe(exitCode);
  });
});

describe('a run of qsattn train, tested and scored by name', () => {
  const checkpoints = join(scratch, 'checkpoints');
  beforeAll(async () => {
    const trained = await runCli('train', '--checkpoints_dir', checkpoints, '--name', 'tiny', '--ngf', '4', '--ndf', '4', '--netF_nc', '16', '--num_patches', '16', '--max_dataset_size', '2', '--n_epochs', '1', '--n_epochs_decay', '1', '--max_steps', '2');
    expect(trained.code, trained.stderr).toBe(0);
  });

  test('test --name takes the architecture, sizes and synthetic test split from the run', async () => {
    const { code, stdout, stderr } = await runCli('test', '--checkpoints_dir', checkpoints, '--name', 'tiny', '--num_test', '3', '--results_dir', results);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('(checkpoint, step 2; ngf 4, resnet_4blocks): translating 3 images (resize_and_crop, crop size 64)');
    const fakes = join(results, 'tiny', 'test_latest', 'images', 'fake_B');
    expect(readdirSync(fakes)).toEqual(['000000.png', '000001.png', '000002.png']);
    expect(await decodeImageFile(join(fakes, '000000.png'))).toMatchObject({ width: 64, height: 64 });
  });

  test('eval scores the model and the identity on the synthetic test split', async () => {
    const { code, stdout } = await runCli('eval', '--checkpoints_dir', checkpoints, '--name', 'tiny', '--num_test', '4', '--json');
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ images: 4, identity: { contentKept: 1, backgroundChange: 0, psnr: expect.any(Number), ssim: expect.any(Number) } });
    expect(result.identity.domainChanged).toBeLessThan(0.1);
    // The untranslated input keeps the object where the target has it, and has none of its stripes.
    expect(result.identity.objectIoU).toBeGreaterThan(0.85);
    expect(result.identity.stripeContrast).toBeLessThan(0.1);
    expect(Object.keys(result.model).sort()).toEqual(['backgroundChange', 'contentKept', 'domainChanged', 'objectIoU', 'psnr', 'ssim', 'stripeContrast']);
  });

  test('datasets synth writes the official layout with testA_target/, which eval --dataroot scores on', async () => {
    const out = join(scratch, 'synth');
    const written = await runCli('datasets', 'synth', '--out', out, '--train-count', '2', '--test-count', '3');
    expect(written.stdout).toBe(`wrote ${out}: trainA 2, trainB 2, testA 3, testB 3, testA_target 3 (64 px, seed 0)\n`);
    const { code, stdout } = await runCli('eval', '--checkpoints_dir', checkpoints, '--name', 'tiny', '--dataroot', out);
    expect(code).toBe(0);
    expect(stdout).toMatch(/content kept +\d\.\d{3} +1\.000\n/);
    // The measures that fit the task come first.
    expect(stdout.split('\n').slice(2, 6).map((l) => l.trim().split(/  +/)[0])).toEqual(['measure', 'object IoU with target', 'stripe contrast / target', 'background change']);
    expect(stdout).toContain('(3 test images)');
    const bad = await runCli('eval', '--checkpoints_dir', checkpoints, '--name', 'tiny', '--dataroot', join(out, 'testA'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^qsattn eval: --dataroot .*testA: no testA\/ or valA\/ folder to translate\n$/);
  });

  test('datasets needs a known dataset and --out', async () => {
    expect((await runCli('datasets', 'horses', '--out', scratch)).stderr).toBe("qsattn datasets: unknown subcommand 'horses': choose one of synth, download, list\n");
    expect((await runCli('datasets', 'synth')).stderr).toBe('qsattn datasets: option --out DIR is required: the folder to write the dataset to\n');
  });
});
