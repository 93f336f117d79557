// Every layer of ours, value and gradients, on webgpu against the cpu backend (float32 both): webgpu's kernels
// must give the same numbers to float32 rounding.
import * as tf from '@tensorflow/tfjs-core';
import { expect, test } from 'vitest';
import { testValues, useBackend } from '../testing/harness';
import { webgpuSuite } from '../testing/webgpu-suite';
import { leakyRelu } from './activations';
import { downsample, upsample } from './blur';
import { conv2d } from './conv2d';
import { convTranspose2d } from './conv-transpose2d';
import { depthwiseConvTranspose2d } from './depthwise-conv-transpose2d';
import { instanceNorm } from './instance-norm';
import { l2Normalize } from './l2-normalize';
import { linear } from './linear';
import { reflectionPad } from './reflection-pad';
import { replicationPad } from './replication-pad';

const { describeGpu } = await webgpuSuite();

type Case = { shapes: number[][]; f: (...xs: tf.Tensor[]) => tf.Tensor };
const t4 = (t: tf.Tensor): tf.Tensor4D => t as tf.Tensor4D;
const CASES: Record<string, Case> = {
  'conv2d 3×3': { shapes: [[1, 18, 18, 8], [3, 3, 8, 8], [8]], f: (x, w, b) => conv2d(t4(x), t4(w), b as tf.Tensor1D) },
  'conv2d 3×3 stride 2 padding 1': { shapes: [[2, 17, 17, 8], [3, 3, 8, 16], [16]], f: (x, w, b) => conv2d(t4(x), t4(w), b as tf.Tensor1D, { stride: 2, padding: 1 }) },
  'conv2d 7×7 + tanh': { shapes: [[1, 22, 22, 8], [7, 7, 8, 3], [3]], f: (x, w, b) => tf.tanh(conv2d(t4(x), t4(w), b as tf.Tensor1D)) },
  'convTranspose2d stride 2': { shapes: [[1, 8, 8, 8], [3, 3, 4, 8], [4]], f: (x, w, b) => convTranspose2d(t4(x), t4(w), b as tf.Tensor1D, { stride: 2, padding: 1, outputPadding: 1 }) },
  'depthwiseConvTranspose2d': { shapes: [[1, 8, 8, 8], [4, 4, 8, 1]], f: (x, w) => depthwiseConvTranspose2d(t4(x), t4(w), { stride: 2, padding: 2 }) },
  downsample: { shapes: [[1, 16, 16, 8]], f: (x) => downsample(t4(x)) },
  upsample: { shapes: [[1, 8, 8, 8]], f: (x) => upsample(t4(x)) },
  'instanceNorm + relu': { shapes: [[2, 16, 16, 8]], f: (x) => tf.relu(instanceNorm(t4(x))) },
  'instanceNorm, PyTorch CPU channels-last bug': { shapes: [[1, 8, 8, 4]], f: (x) => instanceNorm(t4(x), { torchCpuChannelsLastGradBug: true }) },
  'reflectionPad 3': { shapes: [[1, 16, 16, 4]], f: (x) => reflectionPad(t4(x), 3) },
  'replicationPad 1': { shapes: [[1, 16, 16, 4]], f: (x) => replicationPad(t4(x), 1) },
  'leakyRelu 0.2': { shapes: [[1, 8, 8, 4]], f: (x) => leakyRelu(x, 0.2) },
  'linear + l2Normalize': { shapes: [[64, 32], [32, 16], [16]], f: (x, w, b) => l2Normalize(linear(x, w as tf.Tensor2D, b as tf.Tensor1D)) },
  'gather rows (patch sampling) and its gradient': { shapes: [[64, 8]], f: (x) => tf.gather(x, tf.tensor1d([5, 3, 63, 0, 17], 'int32')) },
};

/** Value and gradient of Σ (f(xs) · r) for a fixed r, on the current backend. */
async function evaluate(c: Case): Promise<Float32Array[]> {
  const xs = c.shapes.map((shape, i) => tf.tensor(Float32Array.from(testValues(shape.reduce((a, b) => a * b), i + 3)), shape));
  const y = tf.tidy(() => c.f(...xs));
  const r = tf.tensor(Float32Array.from(testValues(y.size, 99)), y.shape);
  const grads = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(c.f(...args), r)))(xs);
  const out = (await Promise.all([y, ...grads].map((t) => t.data()))) as Float32Array[];
  tf.dispose([...xs, y, r, ...grads]);
  return out;
}

describeGpu('layers and gradients', () => {
  test.each(Object.keys(CASES))('%s: webgpu equals cpu to float32 rounding', async (name) => {
    await useBackend('cpu');
    const want = await evaluate(CASES[name]);
    await tf.setBackend('webgpu');
    const before = tf.memory().numTensors;
    const got = await evaluate(CASES[name]);
    expect(tf.memory().numTensors).toBe(before);
    got.forEach((values, i) => {
      let scale = 0;
      let error = 0;
      for (let k = 0; k < values.length; k++) {
        scale = Math.max(scale, Math.abs(want[i][k]));
        error = Math.max(error, Math.abs(values[k] - want[i][k]));
      }
      // A few float32 roundings apart (WGSL's tanh and rsqrt are a few ulps from the CPU's).
      expect(error, `output ${i}`).toBeLessThanOrEqual(1e-5 * scale);
    });
  });
});
