// Images per second of `qsattn test` on 1 and 2 workers, in one run: worker threads on this machine, and BullMQ
// worker processes through a local redis-server (started here on a free loopback port and stopped at the end).
// Then what one Redis carries: BullMQ jobs per second with no translation, empty and with a 100 KB result.
// One JSON line per measurement. Usage: node bench/scale.mjs [--images 32] [--ngf 64] [--px 64] [--jobs 3000].
// Runs against the built command (dist/). Each translation measurement is the command's own "in S s (R
// images/s)": the time from the first image sent to the last result written, model loading excluded.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '32' },
    ngf: { type: 'string', default: '64' },
    px: { type: 'string', default: '64' },
    jobs: { type: 'string', default: '3000' },
  },
});
const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'qsattn-bench-scale-'));
const load = () => loadavg().map((l) => Number(l.toFixed(2)));
const qsattn = (...args) => execFileSync(process.execPath, [BIN, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startRedis() {
  const port = await freePort();
  const child = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
    child.stdout.on('data', (c) => {
      out += c;
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('error', (e) => reject(new Error(`cannot start redis-server (${e.message}); install it (apt-get install redis-server)`)));
  });
  return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill('SIGKILL') };
}

function startWorker(url) {
  const child = spawn(process.execPath, [BIN, 'worker', '--queue', url, '--workers', '1', '--threads', '1', '--backend', 'wasm'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  const ready = new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      if (/^worker on queue/m.test(out)) {
        clearInterval(poll);
        resolve();
      } else if (child.exitCode !== null) {
        clearInterval(poll);
        reject(new Error(`worker exited: ${out}`));
      }
    }, 50);
  });
  return { ready, stop: () => new Promise((r) => (child.exitCode !== null ? r() : (child.once('exit', r), child.kill('SIGTERM')))) };
}

const rateOf = (stdout) => {
  const m = /wrote (\d+) translations in ([\d.]+) s \(([\d.]+) images\/s\)/.exec(stdout);
  if (m === null) throw new Error(`no rate in: ${stdout}`);
  return { images: Number(m[1]), seconds: Number(m[2]), imagesPerSecond: Number(m[3]) };
};

// What the machine allows right now: busy loops on 1 and 2 threads for 2 s each. On a shared machine the second
// core may be someone else's; then no program shows 2× here, and this line says so.
async function spinShare() {
  const { Worker } = await import('node:worker_threads');
  const code = `let x = 0; const t = performance.now(); while (performance.now() - t < 2000) x++; require('node:worker_threads').parentPort.postMessage(x);`;
  const counts = {};
  for (const n of [1, 2]) {
    const res = await Promise.all(Array.from({ length: n }, () => new Promise((r) => new Worker(code, { eval: true }).once('message', r))));
    counts[n] = res.reduce((a, b) => a + b, 0);
  }
  return Number((counts[2] / counts[1]).toFixed(2));
}
console.log(JSON.stringify({ bench: 'scale', mode: 'busy loops (what the machine allows now)', speedup2: await spinShare(), load: load() }));

// A model of the asked size (one training step, so the weights are a real checkpoint) and a synthetic test set.
const data = join(scratch, 'data');
qsattn('datasets', 'synth', '--out', data, '--train-count', '1', '--test-count', values.images, '--size', values.px);
qsattn('train', '--dataroot', data, '--checkpoints_dir', join(scratch, 'checkpoints'), '--name', 'bench', '--ngf', values.ngf, '--crop_size', values.px, '--load_size', values.px, '--max_steps', '1', '--backend', 'wasm');
const model = ['--checkpoints_dir', join(scratch, 'checkpoints'), '--name', 'bench', '--dataroot', data];
const common = { ngf: Number(values.ngf), px: Number(values.px), backend: 'wasm', threadsPerWorker: 1 };
let run = 0;
const results = () => join(scratch, `results-${run++}`);

const local = {};
for (const workers of [1, 2]) {
  const out = qsattn('test', ...model, '--results_dir', results(), '--workers', String(workers), '--threads', '1', '--backend', 'wasm');
  local[workers] = rateOf(out);
  console.log(JSON.stringify({ bench: 'scale', mode: 'worker threads', workers, ...common, ...local[workers], load: load() }));
}
console.log(JSON.stringify({ bench: 'scale', mode: 'busy loops (what the machine allows now)', speedup2: await spinShare(), load: load() }));
console.log(JSON.stringify({ bench: 'scale', mode: 'worker threads', speedup2: Number((local[2].imagesPerSecond / local[1].imagesPerSecond).toFixed(2)), goal: 1.8, load: load() }));

const redis = await startRedis();
try {
  const queued = {};
  for (const count of [1, 2]) {
    const workers = Array.from({ length: count }, () => startWorker(redis.url));
    await Promise.all(workers.map((w) => w.ready));
    // Warm-up: each worker loads the model on its first job; the measured run starts with loaded workers.
    qsattn('test', ...model, '--results_dir', results(), '--queue', redis.url, '--num_test', String(2 * count));
    const out = qsattn('test', ...model, '--results_dir', results(), '--queue', redis.url);
    queued[count] = rateOf(out);
    console.log(JSON.stringify({ bench: 'scale', mode: 'queue', workers: count, ...common, ...queued[count], load: load() }));
    await Promise.all(workers.map((w) => w.stop()));
  }
  console.log(JSON.stringify({ bench: 'scale', mode: 'queue', speedup2: Number((queued[2].imagesPerSecond / queued[1].imagesPerSecond).toFixed(2)), goal: 1.8, load: load() }));
  process.stdout.write(execFileSync(process.execPath, [fileURLToPath(new URL('./queue-rate.mjs', import.meta.url)), '--url', redis.url, '--jobs', values.jobs], { encoding: 'utf8' }));
} finally {
  redis.stop();
  rmSync(scratch, { recursive: true, force: true });
}
