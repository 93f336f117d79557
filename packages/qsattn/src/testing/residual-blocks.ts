// Test-only: the generator's residual blocks between two NCE layers, from the fixture's weights. The
// recorded `grad_feat_k.l` are total derivatives in the official encoder graph (feature l also feeds every
// later NCE layer), so checking a layer's NCE gradient needs the blocks that lead to the next one.
import * as tf from '@tensorflow/tfjs-core';
import { conv2d, instanceNorm, reflectionPad } from '@qsattn/core';
import { torchConvToTfjs } from '../../../core/src/io/layout';
import type { QsFixture } from './fixture';

/** `x + [reflect pad 1, conv 3×3, IN, ReLU, reflect pad 1, conv 3×3, IN](x)` for generator entries `indices`. */
export function residualBlocks(fx: QsFixture, indices: readonly number[]): (x: tf.Tensor4D) => tf.Tensor4D {
  const conv = (index: number, part: number): [tf.Tensor4D, tf.Tensor1D] => {
    const name = `init.G.model.${index}.conv_block.${part}`;
    const weight = fx.raw(`${name}.weight`);
    const bias = fx.raw(`${name}.bias`);
    return [
      tf.tidy(() => torchConvToTfjs(tf.tensor(weight.data as Float32Array, weight.shape))),
      tf.tensor1d(bias.data as Float32Array),
    ];
  };
  const blocks = indices.map((index) => [conv(index, 1), conv(index, 5)]);
  return (x) =>
    blocks.reduce((h, [[w1, b1], [w2, b2]]) => {
      const inner = tf.relu(instanceNorm(conv2d(reflectionPad(h, 1), w1, b1)));
      return tf.add(h, instanceNorm(conv2d(reflectionPad(inner as tf.Tensor4D, 1), w2, b2)));
    }, x);
}
