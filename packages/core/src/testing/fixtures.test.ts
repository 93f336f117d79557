import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const testdata = join(dirname(fileURLToPath(import.meta.url)), '../../../../testdata');

test('the official fixtures are byte-identical copies (checksums recorded when copied)', () => {
  const lines = readFileSync(join(testdata, 'fixtures.sha256'), 'utf8').trim().split('\n');
  expect(lines.length).toBeGreaterThanOrEqual(7);
  for (const line of lines) {
    const [hash, name] = line.split(/\s+\*?/);
    const actual = createHash('sha256').update(readFileSync(join(testdata, 'fixtures', name))).digest('hex');
    expect(actual, name).toBe(hash);
  }
});

test('the extra recordings and their float64 replays are the committed ones (testdata/fixtures-extra/SHA256SUMS)', () => {
  const dir = join(testdata, 'fixtures-extra');
  const lines = readFileSync(join(dir, 'SHA256SUMS'), 'utf8').trim().split('\n');
  expect(lines.length).toBeGreaterThanOrEqual(17);
  for (const line of lines) {
    const [hash, name] = line.split(/\s+\*?/);
    expect(createHash('sha256').update(readFileSync(join(dir, name))).digest('hex'), name).toBe(hash);
  }
});
