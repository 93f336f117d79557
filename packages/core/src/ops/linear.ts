import * as tf from '@tensorflow/tfjs-core';

/**
 * `nn.Linear` on `[..., in]` with `weight` `[in, out]` (PyTorch stores `[out, in]`; it is transposed once on
 * import, because wasm's matMul is ten times slower with `transposeB`).
 */
function linear_(x: tf.Tensor, weight: tf.Tensor2D, bias: tf.Tensor1D | null = null): tf.Tensor {
  const [inFeatures, outFeatures] = weight.shape;
  const lead = x.shape.slice(0, -1);
  if (x.shape[x.rank - 1] !== inFeatures) {
    throw new Error(`linear: input has ${x.shape[x.rank - 1]} features but the weight [${weight.shape.join(', ')}] expects ${inFeatures}`);
  }
  const flat = x.rank === 2 ? (x as tf.Tensor2D) : tf.reshape(x, [-1, inFeatures]) as tf.Tensor2D;
  let y: tf.Tensor = tf.matMul(flat, weight);
  if (bias != null) y = tf.add(y, bias);
  return x.rank === 2 ? y : tf.reshape(y, [...lead, outFeatures]);
}

export const linear = tf.op({ linear_ });
