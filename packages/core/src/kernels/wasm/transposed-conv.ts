import * as tf from '@tensorflow/tfjs-core';
import type { WasmKernelChain } from './kernel-chain';

/**
 * How one spatial axis of a transposed convolution (an input gradient) maps onto a forward, stride-1 one:
 * dx[h] = Σ_i dyUp[h + padBefore(fwd) − i·d] · f[i] reads dyUp (dy with stride−1 zeros after each pixel)
 * through the flipped filter, once dyUp is cropped or zero-padded to inSize + (k−1)·d rows.
 */
export interface AxisPlan {
  /** Rows of the zero-upsampled dy dropped at each end (the forward padding exceeded the filter's reach). */
  cropBefore: number;
  cropAfter: number;
  /** Zero padding the forward conv adds around what is left. */
  padBefore: number;
  padAfter: number;
}

export function planAxis(
  inSize: number,
  upsampled: number,
  filterSize: number,
  dilation: number,
  padBefore: number
): AxisPlan {
  const reach = (filterSize - 1) * dilation;
  const before = reach - padBefore;
  // Rows of dx that no output read (the forward conv stopped short) get zeros from here.
  const after = inSize + reach - before - upsampled;
  return {
    cropBefore: Math.max(0, -before),
    cropAfter: Math.max(0, -after),
    padBefore: Math.max(0, before),
    padAfter: Math.max(0, after),
  };
}

/** The rows and columns plan of a forward conv's input gradient. */
export function planInputGrad(info: tf.backend_util.Conv2DInfo): { rows: AxisPlan; cols: AxisPlan } {
  return {
    rows: planAxis(
      info.inHeight,
      info.outHeight * info.strideHeight,
      info.filterHeight,
      info.dilationHeight,
      info.padInfo.top
    ),
    cols: planAxis(info.inWidth, info.outWidth * info.strideWidth, info.filterWidth, info.dilationWidth, info.padInfo.left),
  };
}

/** The forward conv's explicit padding for a plan. */
export function explicitPad(rows: AxisPlan, cols: AxisPlan): tf.backend_util.ExplicitPadding {
  return [
    [0, 0],
    [rows.padBefore, rows.padAfter],
    [cols.padBefore, cols.padAfter],
    [0, 0],
  ];
}

/**
 * dy [N,Ho,Wo,C] with stride−1 zeros after each pixel (a Reshape, a PadV2 and a Reshape), then cropped by
 * the plan (a Slice). Returns dy itself when neither applies.
 */
export function spreadByStride(
  chain: WasmKernelChain,
  dy: tf.TensorInfo,
  strideHeight: number,
  strideWidth: number,
  rows: AxisPlan,
  cols: AxisPlan
): tf.TensorInfo {
  const [batch, outHeight, outWidth, channels] = dy.shape;
  let spread = dy;
  if (strideHeight > 1 || strideWidth > 1) {
    const split = chain.run(tf.Reshape, { x: dy }, { shape: [batch, outHeight, 1, outWidth, 1, channels] });
    const paddings = [
      [0, 0],
      [0, 0],
      [0, strideHeight - 1],
      [0, 0],
      [0, strideWidth - 1],
      [0, 0],
    ];
    const gaps = chain.run(tf.PadV2, { x: split }, { paddings, constantValue: 0 });
    const shape = [batch, outHeight * strideHeight, outWidth * strideWidth, channels];
    spread = chain.run(tf.Reshape, { x: gaps }, { shape });
  }
  if (rows.cropBefore + rows.cropAfter + cols.cropBefore + cols.cropAfter > 0) {
    const [, height, width] = spread.shape;
    const begin = [0, rows.cropBefore, cols.cropBefore, 0];
    const size = [
      batch,
      height - rows.cropBefore - rows.cropAfter,
      width - cols.cropBefore - cols.cropAfter,
      channels,
    ];
    spread = chain.run(tf.Slice, { x: spread }, { begin, size });
  }
  return spread;
}
