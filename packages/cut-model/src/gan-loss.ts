import * as tf from '@tensorflow/tfjs-core';

export const GAN_MODES = ['lsgan', 'vanilla', 'nonsaturating'] as const;
export type GanMode = (typeof GAN_MODES)[number];

/**
 * The official `GANLoss`, averaged over every logit: lsgan = mean squared error to 1 (real) or 0 (fake);
 * vanilla = binary cross-entropy with logits (tfjs's form uses log1p, as PyTorch's does); nonsaturating =
 * softplus(−x) for real, softplus(x) for fake.
 */
export function ganLoss(prediction: tf.Tensor, targetIsReal: boolean, mode: GanMode): tf.Scalar {
  return tf.tidy(() => {
    switch (mode) {
      case 'lsgan':
        return tf.mean(tf.square(tf.sub(prediction, targetIsReal ? 1 : 0)));
      case 'vanilla':
        return tf.losses.sigmoidCrossEntropy(targetIsReal ? tf.onesLike(prediction) : tf.zerosLike(prediction), prediction);
      case 'nonsaturating':
        return tf.mean(tf.softplus(targetIsReal ? tf.neg(prediction) : prediction));
      default:
        throw new Error(`unknown GAN mode '${mode as string}': choose one of ${GAN_MODES.join(', ')}`);
    }
  }) as tf.Scalar;
}
