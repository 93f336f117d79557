// How a user plugs QS-Attn into their own tfjs encoder: features of the image and of its translation, the
// NCE loss between them, and a gradient step on both the encoder and the projection head.
import * as tf from '@tensorflow/tfjs-core';
import { Rng, conv2d, initWeight } from '@qsattn/core';
import { expect, test } from 'vitest';
import { useBackend } from '../../core/src/testing/harness';
import { ProjectionHead, nceLoss } from './index';

/** A small encoder: three 3×3 convs; their outputs are the NCE layers. */
function makeEncoder(rng: Rng) {
  const layers = [
    { in: 3, out: 8, stride: 1 },
    { in: 8, out: 16, stride: 2 },
    { in: 16, out: 16, stride: 1 },
  ].map((spec) => ({
    ...spec,
    // initWeight gives PyTorch's [out, in, kh, kw]; conv2d takes [kh, kw, in, out].
    weight: tf.variable(tf.tidy(() => tf.transpose(initWeight([spec.out, spec.in, 3, 3], { type: 'xavier', gain: 1 }, rng), [2, 3, 1, 0]))),
    bias: tf.variable(tf.zeros([spec.out])),
  }));
  const encode = (image: tf.Tensor4D): tf.Tensor4D[] => {
    const features: tf.Tensor4D[] = [];
    let x = image;
    for (const layer of layers) {
      x = conv2d(x, layer.weight as tf.Tensor4D, layer.bias as tf.Tensor1D, { stride: layer.stride, padding: 1 });
      features.push(x);
      x = tf.relu(x);
    }
    return features;
  };
  return { encode, variables: layers.flatMap((l) => [l.weight, l.bias]), channels: layers.map((l) => l.out) };
}

test('example: the NCE loss of an image and its translation trains a user encoder and the head', async () => {
  await useBackend('wasm');
  const rng = new Rng(2024);
  const encoder = makeEncoder(rng);
  const head = ProjectionHead.create({ channels: encoder.channels, nc: 32, rng });
  const image = tf.randomUniform([1, 16, 16, 3], -1, 1, 'float32', 7) as tf.Tensor4D;
  // A stand-in for the generator's output: the image, dimmed and shifted.
  const translation = tf.tidy(() => tf.add(tf.mul(image, 0.8), 0.1)) as tf.Tensor4D;

  // The last layer is a QS layer (global query selection); the others sample patches at random.
  const loss = (patchIds: Rng): tf.Scalar =>
    nceLoss(head, encoder.encode(image), encoder.encode(translation), { mode: 'global', numPatches: 32, qsLayers: [2], patchIds }).loss;

  const initialWeights = encoder.variables.map((v) => v.dataSync().slice());
  const optimizer = tf.train.adam(2e-4);
  const losses: number[] = [];
  for (let step = 0; step < 10; step++) {
    // The same patch ids every step, so that the losses are comparable (training would draw new ones: `rng`).
    const value = optimizer.minimize(() => loss(new Rng(1)), true, [...encoder.variables, ...head.variables])!;
    losses.push(value.dataSync()[0]);
    value.dispose();
  }
  expect(losses.every(Number.isFinite)).toBe(true);
  // With the official 0.02-gain init the projected vectors are ~1e-4 long, so the first Adam step on the
  // output biases dominates them and the loss first rises towards chance (ln 33); then it falls.
  expect(losses[9]).toBeLessThan(losses[1]);
  // The gradient reached the encoder (through the translation's features and the key pass's attention).
  encoder.variables.forEach((v, i) => expect(v.dataSync()).not.toEqual(initialWeights[i]));

  optimizer.dispose();
  tf.dispose([image, translation, ...encoder.variables]);
  head.dispose();
});
