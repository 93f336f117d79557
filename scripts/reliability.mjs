#!/usr/bin/env node
// npm run reliability [-- --kills N] [--steps N] [--translations N]: the long versions of the suite's kill and
// leak tests (packages/cli src/commands/train-kill.test.ts and src/run/leaks.test.ts): N SIGKILLs of a training
// run with a resume after each (default 30), and memory over N training steps and N translations (default 1000).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { numericOptions } from './numeric-options.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const option = numericOptions();
const kills = option('kills', 30);
const steps = option('steps', 1000);
const translations = option('translations', 1000);
for (const [name, value] of Object.entries({ kills, steps, translations })) {
  if (!(Number.isInteger(value) && value > 0)) {
    console.error(`--${name} needs an integer ≥ 1; usage: npm run reliability -- [--kills 30] [--steps 1000] [--translations 1000]`);
    process.exit(2);
  }
}

const load = loadavg()[0];
const build = spawnSync('npx', ['turbo', 'run', 'build', '--filter=@qsattn/cli...'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const work = mkdtempSync(join(tmpdir(), 'qsattn-reliability-report-'));
const report = join(work, 'report.jsonl');
const run = spawnSync('npx', ['vitest', 'run', '--testTimeout=0', 'src/commands/train-kill.test.ts', 'src/run/leaks.test.ts'], {
  cwd: join(root, 'packages', 'cli'),
  env: {
    ...process.env,
    QSATTN_KILLS: String(kills),
    QSATTN_LEAK_STEPS: String(steps),
    QSATTN_LEAK_TRANSLATIONS: String(translations),
    QSATTN_RELIABILITY_REPORT: report,
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const rows = readFileSync(report, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
rmSync(work, { recursive: true, force: true });

const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
console.log(`\nreliability figures (load average ${load.toFixed(1)} at the start)`);
for (const r of rows) {
  if (r.kind === 'kills') {
    console.log(
      `kill -9: ${r.kills} kills (${r.duringSave} while a checkpoint was being written), ${r.starts} starts, ` +
        `${r.failedStarts.length} failed resumes; log reads as one run: ${r.logReadsAsOneRun}; ` +
        `steps with losses unlike the unbroken run's: ${r.differingSteps.length} of ${r.steps}; ` +
        `final checkpoint byte-identical: ${r.sameCheckpoint} (${r.seconds.toFixed(0)} s)`,
    );
  } else {
    const what = r.kind === 'training' ? `${r.end.at} training steps` : `${r.end.at} translations`;
    console.log(
      `${what}: after warm-up (${r.warm.at}) → end: tensors ${r.warm.tensors} → ${r.end.tensors}, ` +
        `wasm heap ${mib(r.warm.heapBytes)} → ${mib(r.end.heapBytes)}, RSS ${mib(r.warm.rssBytes)} → ${mib(r.end.rssBytes)} (${r.seconds.toFixed(0)} s)`,
    );
  }
}
process.exit(run.status ?? 1);
