import * as tf from '@tensorflow/tfjs-core';
import { assertRank4, type Padding2d, toSides } from './pair';

function replicateAxis(x: tf.Tensor4D, before: number, after: number, axis: 1 | 2): tf.Tensor4D {
  if (before === 0 && after === 0) return x;
  const n = x.shape[axis];
  const edge = (index: number, times: number): tf.Tensor4D => {
    const begin = [0, 0, 0, 0];
    const size = [...x.shape] as number[];
    begin[axis] = index;
    size[axis] = 1;
    const reps = [1, 1, 1, 1];
    reps[axis] = times;
    return tf.tile(tf.slice(x, begin, size), reps);
  };
  const parts: tf.Tensor4D[] = [];
  if (before > 0) parts.push(edge(0, before));
  parts.push(x);
  if (after > 0) parts.push(edge(n - 1, after));
  return tf.concat(parts, axis);
}

/**
 * `nn.ReplicationPad2d` on NHWC tensors: the edge rows and columns repeated. Built from slice, tile and concat,
 * whose gradients sum every copy back onto its edge, so the gradient is exact.
 * `padding` is one number or PyTorch's `[left, right, top, bottom]`.
 */
function replicationPad_(x: tf.Tensor4D, padding: Padding2d): tf.Tensor4D {
  assertRank4(x.shape, 'replicationPad');
  const { left, right, top, bottom } = toSides(padding, 'replicationPad');
  return replicateAxis(replicateAxis(x, top, bottom, 1), left, right, 2);
}

export const replicationPad = tf.op({ replicationPad_ });
