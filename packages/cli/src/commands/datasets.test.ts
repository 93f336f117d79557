import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestProxy, startTestServer, type TestServer } from '../../../data/src/testing/http-server';
import { makeZip, type ZipSpec } from '../../../data/src/testing/zips';
import { runCli } from '../testing/memory-io';

const scratch = mkdtempSync(join(tmpdir(), 'qsattn-datasets-'));
const cache = join(scratch, 'cache');
let server: TestServer;
let horse2zebra: Uint8Array;

/** A zip of a folder's files under `prefix/`, as the CycleGAN server packs a dataset. */
function zipFolder(dir: string, prefix: string): Uint8Array {
  const spec: ZipSpec = {};
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else spec[`${prefix}/${relative(dir, full)}`] = new Uint8Array(readFileSync(full));
    }
  };
  walk(dir);
  return makeZip(spec, 0);
}

beforeAll(async () => {
  server = await startTestServer();
  const synth = join(scratch, 'synth');
  expect((await runCli('datasets', 'synth', '--out', synth, '--train-count', '3', '--test-count', '2')).code).toBe(0);
  rmSync(join(synth, 'testA_target'), { recursive: true });
  rmSync(join(synth, 'synth.json'));
  horse2zebra = zipFolder(synth, 'horse2zebra');
});
afterAll(async () => {
  await server.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('qsattn datasets download', () => {
  test('horse2zebra from the (local) server: progress on stderr, the official layout, then qsattn train reads it', async () => {
    server.files.set('/horse2zebra.zip', { body: horse2zebra, dropAfter: Math.floor(horse2zebra.length / 2) });
    const out = join(scratch, 'datasets');
    const { code, stdout, stderr } = await runCli('datasets', 'download', 'horse2zebra', '--out', out, '--url', server.url, '--cache-dir', cache);
    expect(code).toBe(0);
    expect(stderr).toContain(`downloading horse2zebra from ${server.url}/horse2zebra.zip\n`);
    expect(stderr).toMatch(/horse2zebra: the transfer broke after \d+ bytes .*; retrying in 1\.0 s \(attempt 2\)\n/);
    expect(stderr).toMatch(/horse2zebra: [\d.]+ KiB of [\d.]+ KiB .*\(resumed at [\d.]+ KiB\)\n/);
    expect(stderr).toMatch(/horse2zebra: extracting \d+\/\d+ entries/);
    const path = join(out, 'horse2zebra');
    expect(stdout).toMatch(new RegExp(`^wrote ${path}: trainA 3, trainB 3, testA 2, testB 2 images \\(sha256 [0-9a-f]{64} recorded in ${join(cache, 'downloads.json')}\\)\n`));
    expect(stdout).toContain(`train on it: qsattn train --dataroot ${path} --name horse2zebra\n`);
    expect(readdirSync(out)).toEqual(['horse2zebra']);
    expect(readdirSync(path).sort()).toEqual(['testA', 'testB', 'trainA', 'trainB']);

    const train = await runCli('train', '--dataroot', path, '--name', 'h2z', '--checkpoints_dir', join(scratch, 'runs'), '--backend', 'wasm', '--ngf', '4', '--ndf', '4', '--netF_nc', '16', '--num_patches', '16', '--n_epochs', '1', '--n_epochs_decay', '1', '--load_size', '72', '--crop_size', '64', '--max_steps', '1');
    expect(train.stderr).toBe('');
    expect(train.code).toBe(0);
    expect(train.stdout).toContain(`on ${path} (3 A, 3 B images)`);

    const again = await runCli('datasets', 'download', 'horse2zebra', '--out', out, '--url', server.url, '--cache-dir', cache);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`qsattn datasets: ${path}: already exists: remove it or pass --force to replace it (or choose another --out)\n`);
    const forced = await runCli('datasets', 'download', 'horse2zebra', '--out', out, '--url', `${server.url}/horse2zebra.zip`, '--cache-dir', cache, '--force');
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('matches the first download');
  });

  test('through the proxy in HTTP_PROXY', async () => {
    const proxy = await startTestProxy();
    const saved = { HTTP_PROXY: process.env.HTTP_PROXY, http_proxy: process.env.http_proxy, NO_PROXY: process.env.NO_PROXY, no_proxy: process.env.no_proxy };
    try {
      delete process.env.http_proxy;
      delete process.env.NO_PROXY;
      delete process.env.no_proxy;
      process.env.HTTP_PROXY = proxy.url;
      server.files.set('/facades.zip', { body: horse2zebra });
      const { code, stderr } = await runCli('datasets', 'download', 'facades', '--out', join(scratch, 'proxied'), '--url', server.url, '--cache-dir', cache);
      expect(stderr).not.toContain('qsattn datasets:');
      expect(code).toBe(0);
      expect(proxy.forwarded).toEqual([new URL(server.url).host]);
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      await proxy.close();
    }
  });

  const badDownloads: [string, string, () => void, RegExp][] = [
    ['404', '/nothing', () => undefined, /^qsattn datasets: http:\/\/127\.0\.0\.1:\d+\/nothing\/maps\.zip: the server answered 404 Not Found: check the name and the address, or point --url at a mirror\n$/],
    ['not a dataset', '', () => server.files.set('/maps.zip', { body: makeZip({ 'maps/photos/a.jpg': 'x' }) }), /^qsattn datasets: .*maps\.zip: is not an unpaired dataset: it has no trainA\/ and trainB\/ folders \(it holds: maps\/\).*nothing was extracted\n$/],
    ['zip-slip', '', () => server.files.set('/maps.zip', { body: makeZip({ 'maps/trainA/a.jpg': 'x', 'maps/trainB/b.jpg': 'y', '../../evil.jpg': 'z' }) }), /^qsattn datasets: .*maps\.zip: holds the entry '\.\.\/\.\.\/evil\.jpg', which points outside the folder \('\.\.'\): refused, nothing was extracted\n$/],
    ['bomb', '', () => server.files.set('/maps.zip', { body: makeZip({ 'maps/trainA/a.jpg': 'x', 'maps/trainB/b.jpg': new Uint8Array(80 * 1024 ** 2) }, 9) }), /^qsattn datasets: .*maps\.zip: expands \d+-fold .*refused as a possible zip bomb\n$/],
  ];
  test.each(badDownloads)('a bad download (%s) is one line, exit 1, with nothing left in --out', async (_label, path, setup, message) => {
    setup();
    const out = join(scratch, `bad-${_label.replace(/ /g, '-')}`);
    const { code, stdout, stderr } = await runCli('datasets', 'download', 'maps', '--out', out, '--url', `${server.url}${path}`, '--cache-dir', cache);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.split('\n').filter((l) => l.startsWith('qsattn'))).toHaveLength(1);
    expect(stderr.slice(stderr.indexOf('qsattn datasets:'))).toMatch(message);
    expect(readdirSync(out)).toEqual([]);
  });

  test('manual datasets print their steps; cat2dog takes --file afhq.zip', async () => {
    const manual = await runCli('datasets', 'download', 'cityscapes_full', '--out', '/data');
    expect(manual.code).toBe(1);
    expect(manual.stderr).toContain('cityscapes_full needs a manual step');
    expect(manual.stderr).toContain('--output_dir /data/cityscapes');
    const afhq = join(scratch, 'afhq.zip');
    writeFileSync(afhq, makeZip({ 'afhq/train/cat/a.png': 'x', 'afhq/train/dog/b.png': 'y', 'afhq/val/cat/c.png': 'z', 'afhq/val/dog/d.png': 'w' }));
    const laid = await runCli('datasets', 'download', 'cat2dog', '--file', afhq, '--out', join(scratch, 'afhq-out'));
    expect(laid.code).toBe(0);
    expect(laid.stderr).toBe('cat2dog: extracting 4/4 entries, 4 B of 4 B\n');
    expect(laid.stdout).toContain(`wrote ${join(scratch, 'afhq-out', 'cat2dog')}: trainA 1, trainB 1, testA 1, testB 1 images (from ${afhq})`);
  });

  test('usage errors', async () => {
    expect((await runCli('datasets', 'download')).stderr).toMatch(/^qsattn datasets: give the dataset to download: one of horse2zebra, cityscapes, .* \(qsattn datasets list\)\n$/);
    expect((await runCli('datasets', 'download', 'horses')).stderr).toMatch(/^qsattn datasets: unknown dataset 'horses': choose one of horse2zebra, /);
    expect((await runCli('datasets', 'download', 'maps', '--size', '3')).stderr).toBe("qsattn datasets: option --size does not apply to 'datasets download': it takes --out, --url, --file, --force, --keep-zip, --cache-dir\n");
    expect((await runCli('datasets', 'download', 'maps', '--url', 'ftp://x/', '--out', join(scratch, 'ftp'), '--cache-dir', cache)).stderr).toBe('qsattn datasets: ftp://x/maps.zip: uses ftp: give an http:// or https:// URL\n');
    expect((await runCli('datasets', 'list', '--out', 'x')).code).toBe(2);
  });
});

describe('qsattn datasets list', () => {
  test('every dataset with its size and how to get it', async () => {
    const { code, stdout } = await runCli('datasets', 'list');
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toMatch(/^NAME +ZIP +GET +DOMAINS$/);
    expect(lines.find((l) => l.startsWith('horse2zebra '))).toMatch(/^horse2zebra +111 MiB +download +horses → zebras/);
    expect(lines.find((l) => l.startsWith('maps '))).toMatch(/1\.4 GiB +download/);
    expect(lines.find((l) => l.startsWith('cat2dog '))).toMatch(/\? +manual +cats → dogs/);
    expect(stdout).toContain('http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/NAME.zip');
  });
});
