import { copyFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { filesOf } from '../testing/files-of';
import { FIXTURES, runCli } from '../testing/memory-io';
import { splitCores } from './model-spec';

const scratch = mkdtempSync(join(tmpdir(), 'qsattn-workers-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const WEIGHTS = join(FIXTURES, 'pth', 'qs_ngf8_net_G.pth');
const data = join(scratch, 'data');
const COUNT = 5;

const testArgs = (results: string, ...more: string[]): string[] => [
  'test', '--checkpoint', WEIGHTS, '--name', 'm', '--dataroot', data, '--crop_size', '64', '--backend', 'wasm', '--results_dir', results, ...more,
];

describe('qsattn test --workers', () => {
  let single: Map<string, Buffer>;
  beforeAll(async () => {
    const made = await runCli('datasets', 'synth', '--out', data, '--train-count', '1', '--test-count', String(COUNT));
    expect(made.code, made.stderr).toBe(0);
    const one = await runCli(...testArgs(join(scratch, 'one'), '--workers', '1'));
    expect(one.code, one.stderr).toBe(0);
    single = filesOf(join(scratch, 'one'));
  });

  test('2 worker threads write the single-process translations byte for byte, with the same names and index', async () => {
    const { code, stdout, stderr } = await runCli(...testArgs(join(scratch, 'two'), '--workers', '2'));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(`translating ${COUNT} images (resize_and_crop, crop size 64) on 2 workers\n`);
    expect(stdout).toMatch(new RegExp(`\\n${COUNT}/${COUNT} images {2}\\d+\\.\\d{2} images/s {2}ETA 0s\\n`));
    const two = filesOf(join(scratch, 'two'));
    expect([...two.keys()].sort()).toEqual([...single.keys()].sort());
    expect([...single.keys()].filter((k) => k.includes('fake_B'))).toHaveLength(COUNT);
    for (const [name, bytes] of single) expect(two.get(name)!.equals(bytes), name).toBe(true);
  });

  test('running the same command again translates only the missing images; another model translates all', async () => {
    const results = join(scratch, 'rerun');
    expect((await runCli(...testArgs(results, '--workers', '2'))).code).toBe(0);
    const fakes = join(results, 'm', 'test_latest', 'images', 'fake_B');
    rmSync(join(fakes, '000003.png'));
    const again = await runCli(...testArgs(results, '--workers', '2'));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`translating 1 images (resize_and_crop, crop size 64) on 2 workers; ${COUNT - 1} already translated\n`);
    expect(again.stdout).toMatch(new RegExp(`wrote 1 translations in \\d+\\.\\d s \\(\\d+\\.\\d\\d images/s\\) \\(${COUNT - 1} kept from before\\)`));
    const after = filesOf(results);
    for (const [name, bytes] of single) expect(after.get(name)!.equals(bytes), name).toBe(true);

    // The same weights under another name are the same model; other weights are not.
    const other = join(scratch, 'other_net_G.pth');
    writeFileSync(other, readFileSync(WEIGHTS));
    const sameModel = await runCli('test', '--checkpoint', other, '--name', 'm', '--dataroot', data, '--crop_size', '64', '--results_dir', results, '--workers', '1');
    expect(sameModel.stdout).toContain(`translating 0 images`);
    const changed = await runCli(...testArgs(results, '--workers', '1', '--crop_size', '32'));
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.stdout).toContain(`translating ${COUNT} images (resize_and_crop, crop size 32) on 1 worker\n`);
  });

  test('a corrupt image is reported with its file and reason; the others are translated; exit 1; a rerun after the fix completes', async () => {
    const folder = join(scratch, 'with-bad');
    const results = join(scratch, 'bad-results');
    cpSync(join(data, 'testA'), folder, { recursive: true });
    writeFileSync(join(folder, '000002.png'), readFileSync(join(data, 'testA', '000002.png')).subarray(0, 100));
    const args = ['test', '--checkpoint', WEIGHTS, '--name', 'm', folder, '--crop_size', '64', '--backend', 'wasm', '--results_dir', results, '--workers', '2'];
    const { code, stdout, stderr } = await runCli(...args);
    expect(code).toBe(1);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^qsattn test: 000002\.png failed: .*with-bad\/000002\.png.*\S/);
    expect(lines[1]).toBe('qsattn test: 1 image failed; fix or remove it and run the same command again to translate only what is missing');
    expect(stdout).toContain(`wrote ${COUNT - 1} translations`);
    const fakes = join(results, 'm', 'test_latest', 'images', 'fake_B');
    expect(readdirSync(fakes).sort()).toEqual(['000000.png', '000001.png', '000003.png', '000004.png']);
    expect(readFileSync(join(results, 'm', 'test_latest', 'index.html'), 'utf8')).not.toContain('000002');

    copyFileSync(join(data, 'testA', '000002.png'), join(folder, '000002.png'));
    const fixed = await runCli(...args);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stdout).toContain(`translating 1 images (resize_and_crop, crop size 64) on 2 workers; ${COUNT - 1} already translated`);
    const after = filesOf(results);
    for (const [name, bytes] of single) expect(after.get(name)!.equals(bytes), name).toBe(true);
  });

  test('--workers must be a whole number of at least 1', async () => {
    const { code, stderr } = await runCli(...testArgs(join(scratch, 'none'), '--workers', '0'));
    expect(stderr).toBe("qsattn test: option --workers needs an integer ≥ 1, got '0'\n");
    expect(code).toBe(2);
  });
});

describe('splitCores', () => {
  test('one worker per core with one wasm thread each by default; the other count fills the cores; both as given', () => {
    expect(splitCores(undefined, undefined, 8)).toEqual({ workers: 8, threads: 1 });
    expect(splitCores(2, undefined, 8)).toEqual({ workers: 2, threads: 4 });
    expect(splitCores(3, undefined, 8)).toEqual({ workers: 3, threads: 2 });
    expect(splitCores(16, undefined, 8)).toEqual({ workers: 16, threads: 1 });
    expect(splitCores(undefined, 4, 8)).toEqual({ workers: 2, threads: 4 });
    expect(splitCores(undefined, 16, 8)).toEqual({ workers: 1, threads: 16 });
    expect(splitCores(3, 3, 8)).toEqual({ workers: 3, threads: 3 });
  });
});
