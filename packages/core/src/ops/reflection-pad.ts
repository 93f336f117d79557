import * as tf from '@tensorflow/tfjs-core';
import { REFLECTION_PAD_GRAD } from '../kernels/shared/reflection-pad-grad';
import { assertRank4, type Padding2d, type Sides, toSides } from './pair';

/**
 * Adds the mirrored border's gradient back onto the rows it was copied from, along axis 1 (H) of `dy`.
 * Row `t−i` of the top border mirrors input row `i`; bottom border row `j` mirrors input row `H−2−j`.
 */
function foldReflected(dy: tf.Tensor4D, before: number, after: number, axis: 1 | 2): tf.Tensor4D {
  if (before === 0 && after === 0) return dy;
  const full = dy.shape[axis];
  const inner = full - before - after;
  const sliceAxis = (start: number, size: number): tf.Tensor4D => {
    const begin = [0, 0, 0, 0];
    const sizes = [...dy.shape] as number[];
    begin[axis] = start;
    sizes[axis] = size;
    return tf.slice(dy, begin, sizes);
  };
  const padAxis = (t: tf.Tensor4D, lo: number, hi: number): tf.Tensor4D => {
    const paddings: [number, number][] = [[0, 0], [0, 0], [0, 0], [0, 0]];
    paddings[axis] = [lo, hi];
    return tf.pad(t, paddings);
  };
  const parts = [sliceAxis(before, inner)];
  if (before > 0) parts.push(padAxis(tf.reverse(sliceAxis(0, before), axis), 1, inner - 1 - before));
  if (after > 0) parts.push(padAxis(tf.reverse(sliceAxis(before + inner, after), axis), inner - 1 - after, 1));
  return tf.addN(parts);
}

/** The gradient by tfjs ops, for backends without the fused kernel (kernels/shared/reflection-pad-grad.ts). */
export function reflectionPadGradByOps(dy: tf.Tensor4D, sides: Sides): tf.Tensor4D {
  return foldReflected(foldReflected(dy, sides.top, sides.bottom, 1), sides.left, sides.right, 2);
}

function checkSides(x: tf.Tensor4D, sides: Sides): void {
  const [, h, w] = x.shape;
  if (sides.top >= h || sides.bottom >= h || sides.left >= w || sides.right >= w) {
    throw new RangeError(
      `reflectionPad: padding [${sides.left}, ${sides.right}, ${sides.top}, ${sides.bottom}] must be smaller than the input size ${h}×${w}`,
    );
  }
}

/**
 * `nn.ReflectionPad2d` on NHWC tensors, with the exact gradient: tfjs's `mirrorPad` gradient only slices the
 * centre of dy and drops what flows through the mirrored border; here that part is added back.
 * `padding` is one number or PyTorch's `[left, right, top, bottom]`.
 */
function reflectionPad_(x: tf.Tensor4D, padding: Padding2d): tf.Tensor4D {
  assertRank4(x.shape, 'reflectionPad');
  const sides = toSides(padding, 'reflectionPad');
  checkSides(x, sides);
  const pad = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const value = tf.mirrorPad(args[0] as tf.Tensor4D, [
      [0, 0],
      [sides.top, sides.bottom],
      [sides.left, sides.right],
      [0, 0],
    ], 'reflect');
    // In a tidy: tfjs runs a custom gradient outside one, so its temporaries would live until backprop ends.
    const gradFunc = (dy: tf.Tensor): tf.Tensor =>
      tf.getKernel(REFLECTION_PAD_GRAD, tf.getBackend()) != null
        ? tf.engine().runKernel(REFLECTION_PAD_GRAD, { dy }, { ...sides } as unknown as tf.NamedAttrMap) as tf.Tensor
        : tf.tidy(() => reflectionPadGradByOps(dy as tf.Tensor4D, sides));
    return { value, gradFunc };
  });
  return pad(x) as tf.Tensor4D;
}

export const reflectionPad = tf.op({ reflectionPad_ });
