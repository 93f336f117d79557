// QS-Attn in your own tfjs model: the NCE loss between an image's features and its translation's features,
// and Adam steps on your encoder and the projection head. Run: node own-encoder.mjs
import * as tf from '@tensorflow/tfjs-core';
import { Rng, conv2d, describeBackendChoice, initWeight, selectBackend } from '@qsattn/core';
import { ProjectionHead, nceLoss } from '@qsattn/qsattn';

console.log(describeBackendChoice(await selectBackend()));
const rng = new Rng(2024);

// Your encoder: three 3×3 convs; their outputs are the NCE layers. initWeight gives PyTorch's
// [out, in, kh, kw]; conv2d takes [kh, kw, in, out].
const layers = [
  { in: 3, out: 8, stride: 1 },
  { in: 8, out: 16, stride: 2 },
  { in: 16, out: 16, stride: 1 },
].map((l) => ({
  ...l,
  weight: tf.variable(tf.tidy(() => tf.transpose(initWeight([l.out, l.in, 3, 3], { type: 'xavier', gain: 1 }, rng), [2, 3, 1, 0]))),
  bias: tf.variable(tf.zeros([l.out])),
}));
const encode = (image) => {
  const features = [];
  let x = image;
  for (const l of layers) {
    x = conv2d(x, l.weight, l.bias, { stride: l.stride, padding: 1 });
    features.push(x);
    x = tf.relu(x);
  }
  return features;
};

const head = ProjectionHead.create({ channels: layers.map((l) => l.out), nc: 32, rng });
const image = tf.randomUniform([1, 16, 16, 3], -1, 1, 'float32', 7);
const translation = tf.tidy(() => tf.add(tf.mul(image, 0.8), 0.1)); // stands in for a generator's output
const optimizer = tf.train.adam(2e-4);
const variables = [...layers.flatMap((l) => [l.weight, l.bias]), ...head.variables];

for (let step = 0; step < 5; step++) {
  // The last layer selects its queries by attention entropy (global QS); the others sample patches at random.
  const loss = optimizer.minimize(
    () => nceLoss(head, encode(image), encode(translation), { mode: 'global', numPatches: 32, qsLayers: [2], patchIds: rng }).loss,
    true,
    variables,
  );
  console.log(`step ${step}: NCE loss ${loss.dataSync()[0].toFixed(4)}`);
  loss.dispose();
}
