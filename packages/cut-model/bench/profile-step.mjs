// Where a training step's time goes, kernel by kernel (tf.profile), for any model options: one line per
// kernel name with its total milliseconds, calls and share, then the JS time outside kernels. Usage:
// node bench/profile-step.mjs [--px 64] [--options '{"ngf":16,"netG":"resnet_4blocks"}'] [--threads N]
// [--forward] (profile the generator forward instead of the step). Runs against the built package (dist/).
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@qsattn/core';
import { CutModel } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    px: { type: 'string', default: '64' },
    options: { type: 'string', default: '{}' },
    threads: { type: 'string' },
    backend: { type: 'string', default: 'auto' },
    forward: { type: 'boolean', default: false },
    top: { type: 'string', default: '25' },
  },
});
tf.env().set('PROD', true);
const choice = await selectBackend(values.backend, values.threads === undefined ? {} : { threads: Number(values.threads) });
const px = Number(values.px);
const model = new CutModel(JSON.parse(values.options), { seed: 0 });
const image = (seed) => tf.tidy(() => tf.clipByValue(tf.randomNormal([1, px, px, 3], 0, 0.5, 'float32', seed), -1, 1));
const [realA, realB] = [image(1), image(2)];
const run = values.forward ? () => tf.dispose(model.translate(realA).dataSync()) : () => model.trainStep(realA, realB);
run();
run(); // warm-ups: operator setup, first allocations, JIT
const t0 = performance.now();
run();
const plainMs = performance.now() - t0;
const profile = await tf.profile(run);
const byName = new Map();
for (const k of profile.kernels) {
  const entry = byName.get(k.name) ?? { ms: 0, calls: 0 };
  entry.ms += Number(k.kernelTimeMs) || 0;
  entry.calls++;
  byName.set(k.name, entry);
}
const kernelMs = [...byName.values()].reduce((s, e) => s + e.ms, 0);
console.log(`${values.forward ? 'forward' : 'step'} ${plainMs.toFixed(1)} ms unprofiled on ${choice.name}${choice.threads ? `, ${choice.threads} threads` : ''}; kernels ${kernelMs.toFixed(1)} ms in ${profile.kernels.length} calls`);
for (const [name, e] of [...byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(values.top))) {
  console.log(`${name.padEnd(28)} ${e.ms.toFixed(1).padStart(8)} ms ${String(e.calls).padStart(5)} calls ${((100 * e.ms) / kernelMs).toFixed(1).padStart(5)} %`);
}
