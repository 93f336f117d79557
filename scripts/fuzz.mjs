#!/usr/bin/env node
// npm run fuzz [-- --scale N] [--seed S]: reruns every fuzz property of the suite (the *.fuzz.test.ts files of
// core, cut-model, data and cli) with N times its suite count of cases (default 50), and prints, per reader and
// property, the cases run, how many read correctly and how many were refused with our typed error, and failures.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { numericOptions } from './numeric-options.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const option = numericOptions();
const scale = option('scale', 50);
const seed = option('seed', 20261203);
if (!(Number.isInteger(scale) && scale > 0) || !Number.isInteger(seed)) {
  console.error('usage: npm run fuzz -- [--scale N (cases per property = N × the suite count, default 50)] [--seed S]');
  process.exit(2);
}

const fuzzFiles = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return fuzzFiles(path);
    return name.endsWith('.fuzz.test.ts') ? [path] : [];
  });

const work = mkdtempSync(join(tmpdir(), 'qsattn-fuzz-report-'));
const report = join(work, 'report.jsonl');
const began = performance.now();
const load = loadavg()[0];
let failedRuns = 0;
for (const pkg of ['core', 'cut-model', 'data', 'cli']) {
  const dir = join(root, 'packages', pkg);
  const files = fuzzFiles(join(dir, 'src')).map((f) => relative(dir, f));
  console.log(`${pkg}: ${files.join(', ')}`);
  const run = spawnSync('npx', ['vitest', 'run', '--testTimeout=0', ...files], {
    cwd: dir,
    env: { ...process.env, QSATTN_FUZZ_SCALE: String(scale), QSATTN_FUZZ_SEED: String(seed), QSATTN_FUZZ_REPORT: report },
    encoding: 'utf8',
  });
  if (run.status !== 0) {
    failedRuns++;
    console.log(`${run.stdout}\n${run.stderr}`.split('\n').slice(-60).join('\n'));
  }
}
// A property filtered out of a run reports 0 cases: left out of the table.
const rows = readFileSync(report, 'utf8').trim().split('\n').map((line) => JSON.parse(line)).filter((r) => r.cases > 0);
rmSync(work, { recursive: true, force: true });
const seconds = (performance.now() - began) / 1000;
const width = Math.max(...rows.map((r) => `${r.reader}: ${r.property}`.length));
console.log(`\nfuzz cases (scale ${scale}, seed ${seed}; ${seconds.toFixed(0)} s, load average ${load.toFixed(1)} at the start)`);
console.log(`${'reader: property'.padEnd(width)}  ${'cases'.padStart(8)}  ${'read'.padStart(7)}  ${'refused'.padStart(7)}  failures`);
for (const r of rows.sort((a, b) => `${a.reader}${a.property}`.localeCompare(`${b.reader}${b.property}`))) {
  console.log(`${`${r.reader}: ${r.property}`.padEnd(width)}  ${String(r.cases).padStart(8)}  ${String(r.reads).padStart(7)}  ${String(r.cases - r.reads).padStart(7)}  ${r.failed ? 'FAILED' : '0'}`);
}
const total = rows.reduce((n, r) => n + r.cases, 0);
const failed = rows.filter((r) => r.failed).length;
console.log(`total: ${total} cases, ${failed} properties failed`);
process.exit(failed > 0 || failedRuns > 0 ? 1 : 0);
