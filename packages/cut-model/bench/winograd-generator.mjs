// The Winograd probe (../../core/bench/winograd-probe.mjs) inside the whole generator: wasm's Conv2D is wrapped so
// that every 3×3 stride-1 batch-1 conv whose output tiles evenly runs as Winograd (F(2,3) or F(4,3), products by
// 1×1 Conv2D, transforms in JS, each conv's filter transform cached on its filter), the rest as before. Reports
// (1) the official ngf 8 checkpoint's output against its recording (the conformance tolerance: 1e-4 relative,
// 1e-5 absolute), and (2) a 256 px default generator's forward time and its output's distance from the plain one.
// Not a kernel: nothing here is registered outside this script.
// QSATTN_DIST=…/core/dist/index.js QSATTN_CUT_DIST=…/cut-model/dist/index.js node bench/winograd-generator.mjs
// [--px 256] [--reps 3]
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

const here = dirname(fileURLToPath(import.meta.url));
const core = await import(process.env.QSATTN_DIST ?? '@qsattn/core');
const { ResnetGenerator } = await import(process.env.QSATTN_CUT_DIST ?? '../dist/index.js');
const { makeWinograd, F23, F43 } = await import('../../core/bench/winograd-probe.mjs');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? fallback : process.argv[i + 1];
};
const PX = Number(arg('--px', 256));
const REPS = Number(arg('--reps', 3));

const choice = await core.selectBackend('wasm', { threads: 1 });
// The baseline is wasm's direct conv: @qsattn/core's own Winograd kernel (kernels/wasm/winograd.ts) is switched off.
tf.env().set(core.CONV2D_ROUTE_FLAG, 'direct');
const own = tf.getKernel('Conv2D', 'wasm');
let mode = 'plain';
let winogradCalls = 0;
const cache = new Map();
const clearCache = () => {
  for (const byFilter of cache.values()) for (const impl of byFilter.values()) impl.dispose();
  cache.clear();
};

function conv2d(args) {
  const { inputs, attrs, backend } = args;
  const { x, filter } = inputs;
  const variant = mode === 'F2' ? F23 : mode === 'F4' ? F43 : null;
  const info = tf.backend_util.computeConv2DInfo(x.shape, filter.shape, attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode);
  const { top, bottom, left, right } = info.padInfo;
  const eligible =
    variant != null &&
    (attrs.dataFormat ?? 'NHWC') === 'NHWC' &&
    info.filterHeight === 3 &&
    info.filterWidth === 3 &&
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    info.batchSize === 1 &&
    info.outHeight % variant.m === 0 &&
    info.outWidth % variant.m === 0;
  if (!eligible) return own.kernelFunc(args);
  let padded = x;
  if (top + bottom + left + right > 0) {
    padded = tf.getKernel('PadV2', 'wasm').kernelFunc({
      inputs: { x },
      attrs: { paddings: [[0, 0], [top, bottom], [left, right], [0, 0]], constantValue: 0 },
      backend,
    });
  }
  const key = `${mode} ${padded.shape}`;
  let byFilter = cache.get(filter.dataId);
  if (byFilter === undefined) cache.set(filter.dataId, (byFilter = new Map()));
  let impl = byFilter.get(key);
  if (impl === undefined) {
    const g = backend.typedArrayFromHeap(filter).slice();
    impl = makeWinograd(variant, 'c1', padded.shape, g, info.outChannels);
    byFilter.set(key, impl);
  }
  const { y } = impl.run(padded);
  if (padded !== x) backend.disposeData(padded.dataId);
  winogradCalls++;
  return y;
}
tf.unregisterKernel('Conv2D', 'wasm');
tf.registerKernel({ kernelName: 'Conv2D', backendName: 'wasm', kernelFunc: conv2d, setupFunc: own.setupFunc });

/** |a − b| ≤ 1e-5 + 1e-4·|b| share, max abs difference, and that over max |b|. */
function closeness(a, b) {
  let worst = 0;
  let maxB = 0;
  let outside = 0;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    worst = Math.max(worst, d);
    maxB = Math.max(maxB, Math.abs(b[i]));
    if (d > 1e-5 + 1e-4 * Math.abs(b[i])) outside++;
  }
  return { maxAbs: +worst.toExponential(2), maxRel: +(worst / maxB).toExponential(2), outside, of: b.length };
}

// (1) The official ngf 8 generator against its recorded output.
const fixturePath = join(here, '../../../testdata/fixtures/pth/qs_ngf8_expected.safetensors');
const { tensors: raw } = core.readSafetensors(new Uint8Array(readFileSync(fixturePath)), fixturePath);
const recorded = core.rawToTensors(raw, fixturePath);
const state = Object.fromEntries(
  Object.entries(recorded)
    .filter(([k]) => k.startsWith('state.'))
    .map(([k, v]) => [k.slice('state.'.length), v])
);
const small = new ResnetGenerator({ ngf: 8 }, new core.Rng(1));
small.params.loadTorch(state, 'qs_ngf8 state');
const input = tf.transpose(recorded['input.image'], [0, 2, 3, 1]);
const expected = recorded['output.fake'].dataSync();
for (const m of ['plain', 'F2', 'F4']) {
  mode = m;
  winogradCalls = 0;
  const out = tf.tidy(() => tf.transpose(small.translate(input), [0, 3, 1, 2]));
  console.log(JSON.stringify({ check: 'official ngf8 output', shape: input.shape, mode: m, winogradCalls, ...closeness(out.dataSync(), expected) }));
  out.dispose();
  clearCache();
}
small.dispose();
tf.dispose([input, ...Object.values(recorded)]);


// (2) A 256 px default generator (random init): forward time and distance from plain. One mode after another
// (a warm-up that fills the filter-transform cache, then the timed runs), the cache cleared between modes: both
// modes' transformed filters and XNNPACK's packed copies of them do not fit the wasm heap together at 256 px.
const big = new ResnetGenerator({}, new core.Rng(1));
const image = tf.tidy(() => tf.clipByValue(tf.randomNormal([1, PX, PX, 3], 0, 0.5, 'float32', 1), -1, 1));
const outputs = {};
const times = { plain: [], F2: [], F4: [] };
for (const m of ['plain', 'F2', 'F4']) {
  for (let round = -1; round < REPS; round++) {
    mode = m;
    winogradCalls = 0;
    const start = performance.now();
    const out = tf.tidy(() => big.translate(image));
    const values = out.dataSync();
    const ms = performance.now() - start;
    out.dispose();
    if (process.argv.includes('--verbose')) {
      console.log(JSON.stringify({ mode: m, round, ms: +ms.toFixed(1), heapMiB: Math.round(tf.backend().wasm.HEAPU8.length / 2 ** 20) }));
    }
    if (round < 0) continue;
    times[m].push(ms);
    outputs[m] = { values, winogradCalls, heapMiB: Math.round(tf.backend().wasm.HEAPU8.length / 2 ** 20) };
  }
  clearCache();
}
const median = (v) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)];
for (const m of ['plain', 'F2', 'F4']) {
  console.log(
    JSON.stringify({
      check: `${PX} px default generator forward`,
      threads: choice.threads,
      mode: m,
      ms: +median(times[m]).toFixed(1),
      winogradCalls: outputs[m].winogradCalls,
      heapMiB: outputs[m].heapMiB,
      ...(m === 'plain' ? {} : { vsPlain: closeness(outputs[m].values, outputs.plain.values) }),
    })
  );
}
big.dispose();
image.dispose();
console.log(JSON.stringify({ tensorsLeft: tf.memory().numTensors }));
