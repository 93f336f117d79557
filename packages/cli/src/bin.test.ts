import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { FIXTURES } from './testing/memory-io';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

test('the built qsattn bin runs conformance --json in its own process', async () => {
  expect(existsSync(BIN), `${BIN} is missing: run 'npm run build' (turbo builds it before the tests)`).toBe(true);
  const { stdout, stderr } = await promisify(execFile)(BIN, ['conformance', join(FIXTURES, 'qs_local_64.safetensors'), '--backend', 'wasm', '--json']);
  expect(stderr).toBe('backend wasm\n');
  const lines = stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  const report = JSON.parse(lines[0]);
  expect(report).toMatchObject({ source: expect.stringMatching(/qs_local_64\.safetensors$/), ok: true, backend: 'wasm' });
  expect(report.options).toContain('local');
  expect(report.rows.length).toBeGreaterThan(20);
  expect(report.seconds).toBeGreaterThan(0);
});
