// Two ways of keeping work off the gradient tape, which tfjs-core 4.22 does not offer as ops. Both are
// `tf.customGrad` ops: tfjs does not record the ops run inside a custom op's forward function.
import * as tf from '@tensorflow/tfjs-core';

/**
 * `x`'s value, cut from the gradient graph (PyTorch's `detach`). The custom op's input is a constant, not
 * `x`; `x` is only read inside the unrecorded forward function, so backprop never enters `x`'s producers.
 * (Sending zeros back instead would still run them, and 0·∞ at a zero-norm `l2Normalize` would give NaN.)
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => {
    const anchor = tf.scalar(0);
    const detach = tf.customGrad(() => ({ value: x.clone(), gradFunc: () => tf.scalar(0) }));
    return detach(anchor) as T;
  });
}

/**
 * Runs `compute` (which may read `input`) without recording its ops. Inside `tf.grads` every recorded op
 * keeps the tensors its gradient needs until backprop ends; a computation whose result is only read (the
 * entropies that choose the queries) must not be recorded, or all of its intermediates stay alive.
 */
export function withoutTape<T extends tf.Tensor>(input: tf.Tensor, compute: () => T): T {
  const inputShape = input.shape;
  const untaped = tf.customGrad(() => ({
    value: compute(),
    gradFunc: () => tf.zeros(inputShape),
  }));
  return untaped(input) as T;
}
