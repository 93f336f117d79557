// End to end: a small generator-like net with every conv-type layer trains on wasm exactly as on cpu.
import * as tf from '@tensorflow/tfjs-core';
import { expect, test } from 'vitest';
import { initWeight } from './init/initializers';
import { Rng } from './init/rng';
import { conv2d } from './ops/conv2d';
import { convTranspose2d } from './ops/conv-transpose2d';
import { downsample, upsample } from './ops/blur';
import { instanceNorm } from './ops/instance-norm';
import { reflectionPad } from './ops/reflection-pad';
import { expectClose, useBackend, type TestBackend } from './testing/harness';

type Params = Record<string, tf.Variable>;

function makeParams(): Params {
  const rng = new Rng(11);
  const own = (t: tf.Tensor): tf.Variable => {
    const variable = tf.variable(t); // shares t's data; t itself must still be disposed
    t.dispose();
    return variable;
  };
  const hwio = (torchShape: number[]): tf.Variable =>
    own(tf.tidy(() => tf.transpose(initWeight(torchShape, { type: 'normal', gain: 0.3 }, rng), [2, 3, 1, 0])));
  return {
    stem: hwio([4, 3, 7, 7]),
    stemBias: own(tf.zeros([4])),
    down: hwio([6, 4, 3, 3]),
    // ConvTranspose2d weights are [in, out, kh, kw] in PyTorch and [kh, kw, out, in] here.
    up: hwio([6, 4, 3, 3]),
    head: hwio([3, 4, 3, 3]),
  };
}

function forward(p: Params, x: tf.Tensor4D): tf.Tensor4D {
  let h = conv2d(reflectionPad(x, 3), p.stem as tf.Tensor4D, p.stemBias as tf.Tensor1D);
  h = tf.relu(instanceNorm(h));
  h = downsample(conv2d(h, p.down as tf.Tensor4D, null, { padding: 1 }));
  h = tf.relu(instanceNorm(h));
  h = convTranspose2d(h, p.up as tf.Tensor4D, null, { stride: 2, padding: 1, outputPadding: 1 });
  h = upsample(tf.relu(instanceNorm(h)));
  return tf.tanh(conv2d(h, p.head as tf.Tensor4D, null, { padding: 1, stride: 2 }));
}

async function train(backend: TestBackend): Promise<{ losses: number[]; weights: Float32Array[] }> {
  await useBackend(backend);
  const before = tf.memory().numTensors;
  const params = makeParams();
  const x = tf.tidy(() => tf.sin(tf.reshape(tf.range(0, 2 * 12 * 12 * 3), [2, 12, 12, 3]))) as tf.Tensor4D;
  const target = tf.tidy(() => tf.mul(tf.cos(x), 0.5));
  // Plain SGD: Adam's first steps are ≈ lr·sign(g), which would turn rounding-level gradients (a conv bias
  // before instance norm) into full-size differences between backends.
  const optimizer = tf.train.sgd(0.05);
  const losses: number[] = [];
  for (let step = 0; step < 4; step++) {
    const loss = optimizer.minimize(() => tf.mean(tf.squaredDifference(forward(params, x), target)), true)!;
    losses.push((await loss.data())[0]);
    loss.dispose();
  }
  const weights = await Promise.all(Object.values(params).map(async (v) => (await v.data()) as Float32Array));
  optimizer.dispose();
  tf.dispose([x, target, ...Object.values(params)]);
  expect(tf.memory().numTensors).toBe(before);
  return { losses, weights };
}

test('conv, transposed conv, padding, norm and blur layers train on wasm as on cpu', async () => {
  const cpu = await train('cpu');
  const wasm = await train('wasm');
  expect(cpu.losses[3]).toBeLessThan(cpu.losses[0]);
  expectClose(wasm.losses, cpu.losses, { rel: 1e-4, abs: 1e-6 });
  for (let i = 0; i < cpu.weights.length; i++) expectClose(wasm.weights[i], cpu.weights[i], { rel: 1e-3, abs: 1e-6 });
});
