// Times the wasm training kernels against wasm's own forward conv and the cpu backend, on the built package.
// One JSON line per measurement: the median of several runs after warm-ups, each run read back (outside
// any tidy, which makes dataSync ~5× slower) so wasm's synchronous work is all inside the timing.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
// QSATTN_DIST: another build of the package to time (default ../dist/index.js, from `npm run build`).
const core = await import(process.env.QSATTN_DIST ?? '../dist/index.js');
// --threads N: the wasm backend's threads (default every core, at most 8); each wasm line says how many.
const threadsArg = process.argv.indexOf('--threads');
const threadsWanted = threadsArg < 0 ? undefined : Number(process.argv[threadsArg + 1]);
let wasmThreads = null;

const ROUTE_FLAG = 'QSATTN_WASM_CONV2D_FILTER_GRAD_ROUTE';
const INPUT_ROUTE_FLAG = 'QSATTN_WASM_CONV2D_INPUT_GRAD_ROUTE';
const DEPTHWISE_INPUT_ROUTE_FLAG = 'QSATTN_WASM_DEPTHWISE_INPUT_GRAD_ROUTE';
const CONV_ROUTE_FLAG = 'QSATTN_WASM_CONV2D_ROUTE';

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function time(run, repetitions) {
  // Two warm-ups: the first compiles wasm's operators, the second lets V8 optimise the JS copy loops.
  for (let w = 0; w < 2; w++) run().dispose();
  const times = [];
  for (let r = 0; r < repetitions; r++) {
    globalThis.gc?.();
    const start = performance.now();
    const out = run();
    out.dataSync();
    times.push(performance.now() - start);
    out.dispose();
  }
  return median(times);
}

function report(fields, flops, ms) {
  const threads = fields.backend === 'wasm' ? { threads: wasmThreads } : {};
  console.log(JSON.stringify({ ...fields, ...threads, ms: +ms.toFixed(2), gflops: +(flops / ms / 1e6).toFixed(2) }));
}

const random = (shape, seed) => tf.randomUniform(shape, -1, 1, 'float32', seed);

/**
 * Forward conv, the filter gradient by each route, and the input gradient by each route ('wasm' is wasm's own
 * kernel, which ours replaces), for one conv2d shape.
 */
function conv2dShape(backend, [n, h, w, ci], k, co, stride, pad, repetitions) {
  const filterShape = [k, k, ci, co];
  const info = tf.backend_util.computeConv2DInfo([n, h, w, ci], filterShape, stride, 1, pad);
  const x = random(info.inShape, 1);
  const filter = random(filterShape, 2);
  const dy = random(info.outShape, 3);
  const flops = 2 * tf.util.sizeFromShape(info.outShape) * k * k * ci;
  const shape = `${n}x${h}x${w}x${ci} k${k} ${co}${stride > 1 ? ` s${stride}` : ''}${typeof pad === 'number' ? ` p${pad}` : ''}`;
  const attrs = { strides: stride, pad, dataFormat: 'NHWC' };
  const filterGrad = () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape });
  if (backend === 'wasm') {
    report(
      { op: 'Conv2D', backend, shape },
      flops,
      time(() => tf.conv2d(x, filter, stride, pad), repetitions)
    );
    for (const route of ['auto', 'matmul', 'conv', 'swapped']) {
      tf.env().set(ROUTE_FLAG, route);
      report({ op: 'Conv2DBackpropFilter', backend, route, shape }, flops, time(filterGrad, repetitions));
    }
    tf.env().set(ROUTE_FLAG, 'auto');
    const inputGrad = () =>
      tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, { ...attrs, inputShape: info.inShape });
    for (const route of ['auto', 'conv', 'phases', 'wasm']) {
      tf.env().set(INPUT_ROUTE_FLAG, route);
      report({ op: 'Conv2DBackpropInput', backend, route, shape }, flops, time(inputGrad, repetitions));
    }
    tf.env().set(INPUT_ROUTE_FLAG, 'auto');
  } else {
    report({ op: 'Conv2DBackpropFilter', backend, shape }, flops, time(filterGrad, repetitions));
  }
  tf.dispose([x, filter, dy]);
}

/**
 * A 3×3 stride-1 conv by Winograd F(2×2, 3×3) and by wasm's direct conv: the forward with a filter it has seen
 * (translating: the transformed filter is cached) and with a new filter every run (training: every step's weights
 * are new; the copy that makes it costs both routes the same), and the input gradient (a new rotated filter).
 */
function winogradShape([n, h, w, ci], co, pad, repetitions) {
  const filterShape = [3, 3, ci, co];
  const info = tf.backend_util.computeConv2DInfo([n, h, w, ci], filterShape, 1, 1, pad);
  const x = random(info.inShape, 1);
  const filter = random(filterShape, 2);
  const dy = random(info.outShape, 3);
  const flops = 2 * tf.util.sizeFromShape(info.outShape) * 9 * ci;
  const shape = `${n}x${h}x${w}x${ci} k3 ${co}${typeof pad === 'number' ? ` p${pad}` : ''}`;
  const inputGrad = () =>
    tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, { strides: 1, pad, dataFormat: 'NHWC', inputShape: info.inShape });
  for (const route of ['winograd4', 'winograd', 'direct']) {
    tf.env().set(CONV_ROUTE_FLAG, route);
    const fields = { backend: 'wasm', route, shape };
    report({ op: 'Conv2D', filter: 'seen', ...fields }, flops, time(() => tf.conv2d(x, filter, 1, pad), repetitions));
    const fresh = () => tf.tidy(() => tf.conv2d(x, tf.add(filter, 0), 1, pad));
    report({ op: 'Conv2D', filter: 'new', ...fields }, flops, time(fresh, repetitions));
    report({ op: 'Conv2DBackpropInput', ...fields }, flops, time(inputGrad, repetitions));
  }
  tf.env().set(CONV_ROUTE_FLAG, 'auto');
  tf.dispose([x, filter, dy]);
}

/** Forward depthwise conv and both gradients; the input gradient by each route. `pad` defaults to 'same'. */
function depthwiseShape([n, h, w, c], k, multiplier, stride, repetitions, pad = 'same') {
  const filterShape = [k, k, c, multiplier];
  const info = tf.backend_util.computeConv2DInfo([n, h, w, c], filterShape, stride, 1, pad, undefined, true);
  const x = random(info.inShape, 1);
  const filter = random(filterShape, 2);
  const dy = random(info.outShape, 3);
  const flops = 2 * tf.util.sizeFromShape(info.outShape) * k * k;
  const shape = `${n}x${h}x${w}x${c} k${k} m${multiplier}${stride > 1 ? ` s${stride}` : ''}${typeof pad === 'string' ? '' : ` p${JSON.stringify(pad)}`}`;
  const attrs = { strides: stride, dilations: 1, pad };
  const inputGrad = () =>
    tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter }, { ...attrs, inputShape: info.inShape });
  report({ op: 'DepthwiseConv2dNative', backend: 'wasm', shape }, flops, time(() => tf.depthwiseConv2d(x, filter, stride, pad), repetitions));
  for (const route of ['auto', 'spread', 'phases']) {
    tf.env().set(DEPTHWISE_INPUT_ROUTE_FLAG, route);
    report({ op: 'DepthwiseConv2dNativeBackpropInput', backend: 'wasm', route, shape }, flops, time(inputGrad, repetitions));
  }
  tf.env().set(DEPTHWISE_INPUT_ROUTE_FLAG, 'auto');
  const filterGrad = () =>
    tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...attrs, filterShape });
  report({ op: 'DepthwiseConv2dNativeBackpropFilter', backend: 'wasm', shape }, flops, time(filterGrad, repetitions));
  tf.dispose([x, filter, dy]);
}

function segmentSumShape(rows, width, numSegments, repetitions) {
  const x = random([rows, width], 1);
  const ids = tf.tensor1d(
    Int32Array.from({ length: rows }, (_, i) => (i * 7919) % numSegments),
    'int32'
  );
  const ms = time(() => tf.unsortedSegmentSum(x, ids, numSegments), repetitions);
  report({ op: 'UnsortedSegmentSum', backend: 'wasm', shape: `${rows}x${width} -> ${numSegments}` }, rows * width, ms);
  tf.dispose([x, ids]);
}

wasmThreads = (await core.selectBackend('wasm', threadsWanted === undefined ? {} : { threads: threadsWanted })).threads;
conv2dShape('wasm', [1, 32, 32, 256], 3, 256, 1, 'same', 7);
conv2dShape('wasm', [1, 64, 64, 64], 3, 64, 1, 'same', 7);
conv2dShape('wasm', [4, 64, 64, 128], 3, 128, 2, 'same', 5);
conv2dShape('wasm', [1, 256, 256, 3], 7, 64, 1, 'valid', 5);
conv2dShape('wasm', [1, 64, 64, 32], 3, 8, 1, 'same', 7);
conv2dShape('wasm', [1, 16, 16, 64], 3, 64, 1, 'same', 7);
// A 64 px generator's last conv: 7×7, 16 → 3 channels, on its reflection-padded input.
conv2dShape('wasm', [2, 70, 70, 16], 7, 3, 1, 'valid', 7);
// PatchGAN-like 4×4 stride 2 pad 1, and a 3×3 stride 2 conv whose input gradient is a decoder's transposed conv.
conv2dShape('wasm', [1, 128, 128, 64], 4, 128, 2, 1, 5);
conv2dShape('wasm', [1, 128, 128, 32], 3, 64, 2, 'same', 5);
// The ngf-64 generator's ResNet-block convs at 64, 128 and 256 px (on their reflection-padded input), and the
// 256-px one's convs beside its blurs.
winogradShape([1, 18, 18, 256], 256, 'valid', 9);
winogradShape([1, 34, 34, 256], 256, 'valid', 7);
winogradShape([1, 66, 66, 256], 256, 'valid', 5);
winogradShape([1, 256, 256, 64], 128, 1, 3);
winogradShape([1, 128, 128, 128], 256, 1, 3);
depthwiseShape([1, 64, 64, 128], 3, 1, 1, 7);
depthwiseShape([1, 64, 64, 64], 3, 2, 2, 7);
depthwiseShape([1, 32, 32, 256], 7, 1, 1, 7);
// The anti-aliasing Downsample's blur (3×3 stride 2, after reflection padding) and Upsample's (4×4 stride 2,
// padding 2: its transposed conv is this conv's input gradient), at the sizes of a 64 px, ngf 16 generator.
depthwiseShape([2, 66, 66, 32], 3, 1, 2, 9, 'valid');
depthwiseShape([2, 34, 34, 64], 4, 1, 2, 9, [[0, 0], [2, 2], [2, 2], [0, 0]]);
depthwiseShape([2, 66, 66, 32], 4, 1, 2, 9, [[0, 0], [2, 2], [2, 2], [0, 0]]);
segmentSumShape(100_000, 64, 1000, 7);

await tf.setBackend('cpu');
conv2dShape('cpu', [1, 16, 16, 64], 3, 64, 1, 'same', 3);
