// Ours against the official PyTorch step in one run on one machine (a ratio is only valid that way): for each
// size and thread count, our bench/step.mjs and the peer tools' bench_step.py, one after the other, as one JSON
// line with both measurements, the ratios (ours / official: below 1 is faster or smaller) and the load average
// around the pair. Needs the peer tools (../shared/peer beside the repository, $QS_PEER or --peer DIR) with the official
// code set up (their README) and Debian's python3-torch. Usage: node bench/vs-official.mjs [--px 64,128,256]
// [--mode global] [--threads 1,all] [--steps 2] [--peer DIR] [--python /usr/bin/python3].
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    px: { type: 'string', default: '64,128,256' },
    mode: { type: 'string', default: 'global' },
    threads: { type: 'string', default: '1,all' },
    steps: { type: 'string', default: '2' },
    peer: { type: 'string', default: process.env.QS_PEER ?? resolve(here, '../../../../shared/peer') },
    python: { type: 'string', default: '/usr/bin/python3' },
  },
});

const benchStep = join(values.peer, 'bench_step.py');
if (!existsSync(benchStep)) {
  console.error(`no ${benchStep}: give the peer tools' folder with --peer DIR (their README says how to set up the official code)`);
  process.exit(1);
}

const allThreads = String(Math.min(8, availableParallelism()));
const threadCounts = [...new Set(values.threads.split(',').map((t) => (t === 'all' ? allThreads : t)))];

/** The last line of a command's output as JSON, or its error as `{ error }`. */
function runJson(command, args) {
  try {
    const out = execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 24 });
    return JSON.parse(out.trim().split('\n').at(-1));
  } catch (e) {
    const reason = String(e.stderr ?? e.message).split('\n').filter((l) => /Error|error/.test(l)).at(-1) ?? 'failed';
    return { error: reason.trim().slice(0, 200) };
  }
}

const ratio = (a, b) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? +(a / b).toFixed(2) : null);

for (const px of values.px.split(',')) {
  for (const threads of threadCounts) {
    const loadBefore = loadavg()[0];
    const ours = runJson(process.execPath, [join(here, 'step.mjs'), '--one', `${px}:${values.mode}`, '--steps', values.steps, '--threads', threads]);
    const official = runJson(values.python, [benchStep, '--size', px, '--mode', values.mode, '--threads', threads, '--steps', values.steps]);
    console.log(
      JSON.stringify({
        px: Number(px),
        mode: values.mode,
        threads: Number(threads),
        ours,
        official,
        step_ratio: ratio(ours.step_s, official.step_s),
        forward_ratio: ratio(ours.forward_s, official.infer_s),
        memory_ratio: ratio(ours.peak_mb, official.peak_rss_mb),
        load_avg_1min: [+loadBefore.toFixed(2), +loadavg()[0].toFixed(2)],
      }),
    );
  }
}
