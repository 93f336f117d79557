import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { FIXTURES } from './testing/memory-io';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

test('the built qsattn bin runs conformance --json in its own process on two wasm threads, and exits by itself', async () => {
  expect(existsSync(BIN), `${BIN} is missing: run 'npm run build' (turbo builds it before the tests)`).toBe(true);
  // The pool's live pthread workers must not keep the process alive after the command returns.
  const { stdout, stderr } = await promisify(execFile)(
    BIN,
    ['conformance', join(FIXTURES, 'qs_local_64.safetensors'), '--backend', 'wasm', '--threads', '2', '--json'],
    { timeout: 120_000 },
  );
  expect(stderr).toBe('backend wasm, 2 threads\n');
  const lines = stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  const report = JSON.parse(lines[0]);
  expect(report).toMatchObject({ source: expect.stringMatching(/qs_local_64\.safetensors$/), ok: true, backend: 'wasm' });
  expect(report.options).toContain('local');
  expect(report.rows.length).toBeGreaterThan(20);
  expect(report.seconds).toBeGreaterThan(0);
});

test('a bad --threads is a one-line usage error (exit 2) before anything runs', async () => {
  const run = promisify(execFile)(BIN, ['conformance', join(FIXTURES, 'qs_local_64.safetensors'), '--threads', '0']);
  await expect(run).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/option --threads needs an integer ≥ 1, got '0'/) });
});
