import * as tf from '@tensorflow/tfjs-core';

/**
 * Spreads a `[kh, kw, a, b]` filter to `[(kh−1)·dh+1, (kw−1)·dw+1, a, b]` with zeros between taps. A conv with
 * the spread filter equals the dilated conv, and since this is built from pad/reshape/slice its gradient is
 * exact: tfjs's own conv gradients refuse dilation > 1.
 */
export function dilateFilter(filter: tf.Tensor4D, dh: number, dw: number): tf.Tensor4D {
  if (dh === 1 && dw === 1) return filter;
  return tf.tidy(() => {
    const [kh, kw, a, b] = filter.shape;
    let f: tf.Tensor = filter;
    if (dh > 1) {
      f = tf.pad(tf.reshape(f, [kh, 1, kw * a * b]), [[0, 0], [0, dh - 1], [0, 0]]);
      f = tf.slice(tf.reshape(f, [kh * dh, kw, a, b]), [0, 0, 0, 0], [(kh - 1) * dh + 1, kw, a, b]);
    }
    const rows = f.shape[0];
    if (dw > 1) {
      f = tf.pad(tf.reshape(f, [rows, kw, 1, a * b]), [[0, 0], [0, 0], [0, dw - 1], [0, 0]]);
      f = tf.slice(tf.reshape(f, [rows, kw * dw, a, b]), [0, 0, 0, 0], [rows, (kw - 1) * dw + 1, a, b]);
    }
    return f as tf.Tensor4D;
  });
}
