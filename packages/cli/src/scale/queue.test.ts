import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { decodeImageFile } from '@qsattn/data';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { filesOf } from '../testing/files-of';
import { FIXTURES, runCli } from '../testing/memory-io';
import { startRedisServer, type RedisServer } from '../testing/redis-server';

// Integration tests of `qsattn test --queue` and `qsattn worker` with a real redis-server on a loopback port.
// Workers are the built command in their own processes (so one can be SIGKILLed); the producer runs in-process.

const BIN = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'qsattn-queue-'));
const WEIGHTS = join(FIXTURES, 'pth', 'qs_ngf8_net_G.pth');
const data = join(scratch, 'data');
const COUNT = 6;
const LOCK_MS = '1500';

interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves once the output matches (bounded by `ms`). */
  waitFor(pattern: RegExp, ms?: number): Promise<void>;
  stop(): Promise<void>;
}

const workers: WorkerProcess[] = [];

function startWorker(url: string, ...more: string[]): WorkerProcess {
  const child = spawn(process.execPath, [BIN, 'worker', '--queue', url, '--workers', '1', '--threads', '1', '--backend', 'wasm', '--lock-duration', LOCK_MS, '--queue-timeout', '5', ...more], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const worker: WorkerProcess = {
    child,
    output: () => output,
    waitFor: (pattern, ms = 60_000) =>
      new Promise((resolve, reject) => {
        const started = Date.now();
        const poll = setInterval(() => {
          if (pattern.test(output)) {
            clearInterval(poll);
            resolve();
          } else if (Date.now() - started > ms || child.exitCode !== null) {
            clearInterval(poll);
            reject(new Error(`worker output never matched ${pattern}: ${output}`));
          }
        }, 50);
      }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    },
  };
  workers.push(worker);
  return worker;
}

const translatedLines = (output: string): string[] => output.split('\n').filter((line) => line.startsWith('translated '));

let redis: RedisServer;
let single: Map<string, Buffer>;

beforeAll(async () => {
  expect(existsSync(BIN), `${BIN} is missing: run 'npm run build' (turbo builds it before the tests)`).toBe(true);
  redis = await startRedisServer();
  const made = await runCli('datasets', 'synth', '--out', data, '--train-count', '1', '--test-count', String(COUNT));
  expect(made.code, made.stderr).toBe(0);
  const one = await runCli('test', '--checkpoint', WEIGHTS, '--name', 'm', '--dataroot', data, '--crop_size', '64', '--backend', 'wasm', '--results_dir', join(scratch, 'single'), '--workers', '1');
  expect(one.code, one.stderr).toBe(0);
  single = filesOf(join(scratch, 'single', 'm', 'test_latest', 'images'));
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await redis?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const produce = (url: string, results: string, ...more: string[]) =>
  runCli('test', '--checkpoint', WEIGHTS, '--name', 'm', '--dataroot', data, '--crop_size', '64', '--results_dir', results, '--queue', url, '--queue-timeout', '5', ...more);

const expectSameAsSingle = (results: string): void => {
  const images = filesOf(join(results, 'm', 'test_latest', 'images'));
  expect([...images.keys()].sort()).toEqual([...single.keys()].sort());
  for (const [name, bytes] of single) expect(images.get(name)!.equals(bytes), name).toBe(true);
};

describe('qsattn test --queue with qsattn worker processes', () => {
  test('N images through 2 workers equal the single-process translations byte for byte; each translated once', async () => {
    const [a, b] = [startWorker(redis.url), startWorker(redis.url)];
    await Promise.all([a.waitFor(/^worker on queue qsattn-translate at redis:\/\/127\.0\.0\.1:\d+: 1 thread, roots none$/m), b.waitFor(/^worker on queue/m)]);
    const results = join(scratch, 'two');
    const { code, stdout, stderr } = await produce(redis.url, results);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(`translating ${COUNT} images (resize_and_crop, crop size 64) through queue qsattn-translate at ${redis.url}\n`);
    expect(stdout).toContain(`wrote ${COUNT} translations`);
    expectSameAsSingle(results);
    const lines = [...translatedLines(a.output()), ...translatedLines(b.output())];
    expect(lines).toHaveLength(COUNT);
    expect(new Set(lines.map((l) => l.split(' ')[1])).size).toBe(COUNT);
    expect(a.output()).toMatch(/^loaded qs_ngf8_net_G\.pth \(model [0-9a-f]{12}, backend wasm/m);
    await Promise.all([a.stop(), b.stop()]);
    expect(a.output()).toContain('stopping: finishing the jobs in hand');
    expect(a.child.exitCode).toBe(0);
  });

  test('a worker SIGKILLed mid-run: its job is retried by another worker and every image appears once', async () => {
    const doomed = startWorker(redis.url);
    await doomed.waitFor(/^worker on queue/m);
    const results = join(scratch, 'killed');
    const producing = produce(redis.url, results, '--in-flight', String(COUNT));
    await doomed.waitFor(/^translated /m);
    doomed.child.kill('SIGKILL');
    const rescuer = startWorker(redis.url);
    const { code, stdout, stderr } = await producing;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(`wrote ${COUNT} translations`);
    expectSameAsSingle(results);
    const done = [...translatedLines(doomed.output()), ...translatedLines(rescuer.output())].map((l) => l.split(' ')[1]);
    expect(new Set(done).size).toBe(COUNT);
    await rescuer.stop();
  });

  test('a corrupt image fails its job with the file and reason, the others finish, exit 1; the rerun translates only it', async () => {
    const worker = startWorker(redis.url);
    await worker.waitFor(/^worker on queue/m);
    const folder = join(scratch, 'with-bad');
    cpSync(join(data, 'testA'), folder, { recursive: true });
    writeFileSync(join(folder, '000004.png'), 'not an image');
    const results = join(scratch, 'bad');
    const args = ['test', '--checkpoint', WEIGHTS, '--name', 'm', folder, '--crop_size', '64', '--results_dir', results, '--queue', redis.url];
    const first = await runCli(...args);
    expect(first.code).toBe(1);
    const lines = first.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^qsattn test: 000004\.png failed: .*with-bad\/000004\.png: not a readable PNG, JPEG or WebP image/);
    expect(lines).toHaveLength(2);
    expect(first.stdout).toContain(`wrote ${COUNT - 1} translations`);
    // Not retried: one failed attempt.
    expect(worker.output().match(/^failed 000004\.png/gm)).toHaveLength(1);

    copyFileSync(join(data, 'testA', '000004.png'), join(folder, '000004.png'));
    const second = await runCli(...args);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain(`translating 1 images (resize_and_crop, crop size 64) through queue qsattn-translate at ${redis.url}; ${COUNT - 1} already translated`);
    expectSameAsSingle(results);
    await worker.stop();
  });

  test('--send-paths: workers read the files the jobs name only under their --roots', async () => {
    const inside = startWorker(redis.url, '--roots', data, '--queue-name', 'inside');
    const outside = startWorker(redis.url, '--roots', join(scratch, 'single'), '--queue-name', 'outside');
    await Promise.all([inside.waitFor(/^worker on queue inside/m), outside.waitFor(/^worker on queue outside/m)]);
    const ok = await produce(redis.url, join(scratch, 'paths'), '--send-paths', '--queue-name', 'inside');
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expectSameAsSingle(join(scratch, 'paths'));

    const refused = await produce(redis.url, join(scratch, 'refused'), '--send-paths', '--queue-name', 'outside', '--num_test', '2');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^qsattn test: 000000\.png failed: .*testA\/000000\.png: outside this worker's roots \(.*single\); it reads only under them$/m);
    await Promise.all([inside.stop(), outside.stop()]);
  });

  test('Redis gone mid-run: a one-line error naming the server, exit 1, every file written is whole', async () => {
    const own = await startRedisServer();
    const worker = startWorker(own.url);
    await worker.waitFor(/^worker on queue/m);
    const results = join(scratch, 'gone');
    const producing = produce(own.url, results, '--queue-timeout', '1');
    await worker.waitFor(/^translated /m);
    await own.stop();
    const { code, stderr } = await producing;
    expect(code).toBe(1);
    expect(stderr).toMatch(new RegExp(`^qsattn test: cannot reach Redis at ${own.url.replace(/[/.]/g, '\\$&')} \\(\\w+\\) for 1 s; check that redis-server runs there and the URL, then run the same command again\\n$`));
    const images = join(results, 'm', 'test_latest', 'images');
    for (const column of ['real_A', 'fake_B']) {
      for (const file of readdirSync(join(images, column))) {
        expect(file).toMatch(/^\d{6}\.png$/); // no temporary files left
        await decodeImageFile(join(images, column, file));
      }
    }
    expect(existsSync(join(results, 'm', 'test_latest', 'index.html'))).toBe(true);
    await worker.waitFor(/cannot reach Redis at/, 20_000);
    await worker.stop();
    // Nothing there at all: the same error, at once.
    const none = await produce(own.url, join(scratch, 'none'), '--queue-timeout', '1');
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^qsattn test: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\) for 1 s/);
  });

  test('a password in the URL works and is never printed; a wrong one is a clear error', async () => {
    const secret = 's3cr3t-pw';
    const own = await startRedisServer(['--requirepass', secret]);
    const url = `redis://:${secret}@127.0.0.1:${own.port}`;
    const worker = startWorker(url);
    await worker.waitFor(/^worker on queue/m);
    const results = join(scratch, 'password');
    const { code, stdout, stderr } = await produce(url, results, '--num_test', '2');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(`through queue qsattn-translate at redis://:***@127.0.0.1:${own.port}`);
    for (const text of [stdout, stderr, worker.output()]) expect(text).not.toContain(secret);
    const wrong = await produce(`redis://:nope@127.0.0.1:${own.port}`, join(scratch, 'wrong'), '--queue-timeout', '1');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^qsattn test: cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ \(WRONGPASS/);
    expect(wrong.stderr).not.toContain('nope');
    await worker.stop();
    await own.stop();
  });

  test('rediss:// to a TLS redis-server with a self-signed certificate (--queue-ca)', async () => {
    const certs = join(scratch, 'tls');
    execFileSync('mkdir', ['-p', certs]);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', join(certs, 'key.pem'), '-out', join(certs, 'cert.pem')], { stdio: 'ignore' });
    const own = await startRedisServer(['--tls-cert-file', join(certs, 'cert.pem'), '--tls-key-file', join(certs, 'key.pem'), '--tls-ca-cert-file', join(certs, 'cert.pem'), '--tls-auth-clients', 'no'], { tls: true });
    const ca = join(certs, 'cert.pem');
    const worker = startWorker(own.url, '--queue-ca', ca);
    await worker.waitFor(/^worker on queue/m);
    const { code, stdout, stderr } = await produce(own.url, join(scratch, 'tls-results'), '--queue-ca', ca, '--num_test', '2');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(`at rediss://127.0.0.1:${own.port}`);
    // Without the CA the self-signed certificate is refused.
    const untrusted = await produce(own.url, join(scratch, 'untrusted'), '--queue-timeout', '1', '--num_test', '1');
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toMatch(/^qsattn test: cannot reach Redis at rediss:\/\/127\.0\.0\.1:\d+ \(\w+/);
    await worker.stop();
    await own.stop();
  });
});
