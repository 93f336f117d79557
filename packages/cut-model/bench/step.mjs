// Seconds per training step and per generator forward, and peak memory, for the default architecture
// (ngf 64, resnet_9blocks, batch 1, 256 patches) — one JSON line per size, QS mode and thread count, each measured
// in its own process so that its peak resident memory is its own. Usage: node bench/step.mjs [--px 64,128,256]
// [--modes global,local] [--threads 1,all] [--steps N] [--backend auto]. `all` is every core (at most 8, the wasm
// pool's size). Where a hardware WebGPU adapter is present (not a software one such as SwiftShader), the same sizes
// and modes on webgpu follow, with the adapter named. Runs against the built package (dist/).
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    px: { type: 'string', default: '64,128,256' },
    modes: { type: 'string', default: 'global,local' },
    steps: { type: 'string', default: '2' },
    backend: { type: 'string', default: 'auto' },
    threads: { type: 'string', default: '1,all' },
    one: { type: 'string' },
  },
});

const allThreads = String(Math.min(8, availableParallelism()));
const threadCounts = [...new Set(values.threads.split(',').map((t) => (t === 'all' ? allThreads : t)))];

function runOne(px, mode, backend, threads) {
  const args = [fileURLToPath(import.meta.url), '--one', `${px}:${mode}`, '--steps', values.steps, '--backend', backend, '--threads', threads];
  try {
    process.stdout.write(execFileSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  } catch (e) {
    // A configuration that cannot run here (e.g. beyond the 4 GB wasm heap) is reported, not fatal.
    // The thrown error's line, not native libraries' own stderr chatter (Dawn's "error: XDG_RUNTIME_DIR …").
    const lines = String(e.stderr ?? e.message).split('\n');
    const reason = lines.find((l) => /^\w*Error\b/.test(l)) ?? lines.find((l) => /Error|error/.test(l)) ?? 'failed';
    console.log(JSON.stringify({ px: Number(px), mode, threads: Number(threads), error: reason.trim().slice(0, 200), backend }));
  }
}

if (values.one == null) {
  for (const px of values.px.split(',')) {
    for (const mode of values.modes.split(',')) {
      for (const threads of threadCounts) runOne(px, mode, values.backend, threads);
    }
  }
  const { findWebGpuAdapter } = await import('@qsattn/core');
  const adapter = await findWebGpuAdapter().catch(() => undefined);
  if (adapter != null && !adapter.software && values.backend !== 'webgpu') {
    for (const px of values.px.split(',')) for (const mode of values.modes.split(',')) runOne(px, mode, 'webgpu', '1');
  }
  process.exit(0); // Dawn's device, if one was opened, would keep the process alive
} else {
  const tf = await import('@tensorflow/tfjs-core');
  const { selectBackend } = await import('@qsattn/core');
  const { CutModel } = await import('../dist/index.js');
  tf.env().set('PROD', true); // no per-op NaN checks or console banners while timing
  const [pxText, mode] = values.one.split(':');
  const px = Number(pxText);
  const choice = await selectBackend(values.backend, { threads: Number(threadCounts[0]) });
  const model = new CutModel({ qsMode: mode }, { seed: 0 });
  const image = (seed) => tf.tidy(() => tf.clipByValue(tf.randomNormal([1, px, px, 3], 0, 0.5, 'float32', seed), -1, 1));
  const realA = image(1);
  const realB = image(2);
  // Each timing ends with a read-back, so that a GPU backend's queued work is finished and counted.
  const time = async (fn) => {
    const t0 = performance.now();
    await fn();
    return (performance.now() - t0) / 1000;
  };
  const forward = async () => {
    const y = model.translate(realA);
    await y.data();
    y.dispose();
  };
  await forward(); // warm-up: kernel setup (shader compilation on GPU backends) and first allocations
  const forwardS = Math.min(await time(forward), await time(forward));
  await model.trainStepAsync(realA, realB); // warm-up step
  const steps = Number(values.steps);
  let total = 0;
  for (let i = 0; i < steps; i++) total += await time(() => model.trainStepAsync(realA, realB));
  const peakMb = process.resourceUsage().maxRSS / 1024;
  const gpuBytes = tf.memory().numBytesAllocatedInGPU;
  console.log(
    JSON.stringify({
      px,
      mode,
      step_s: +(total / steps).toFixed(3),
      forward_s: +forwardS.toFixed(3),
      peak_mb: Math.round(peakMb),
      backend: choice.name,
      threads: choice.threads ?? null,
      ...(choice.adapter ? { adapter: choice.adapter, gpu_pool_mb: Math.round(gpuBytes / 2 ** 20) } : {}),
      ngf: 64,
      blocks: 9,
      batch: 1,
      num_patches: 256,
    }),
  );
  process.exit(0);
}
