import * as tf from '@tensorflow/tfjs-core';
import { DatasetError } from './errors';
import type { ByteImage, FloatImage } from './image';

/**
 * An image given to a measure: an 8-bit `ByteImage` (0–255), a `FloatImage` ([−1, 1]), or a tfjs tensor in
 * [−1, 1], [H, W, C] or [1, H, W, C] (a generator's output as it is).
 */
export type ImageInput = ByteImage | FloatImage | tf.Tensor;

/** An image with values in [0, 1] (clamped), row-major HWC. */
export interface UnitImage {
  width: number;
  height: number;
  channels: number;
  data: Float32Array;
}

/** Reads an image input into [0, 1]; `what` names it in errors. */
export function toUnitImage(input: ImageInput, what: string): UnitImage {
  if (input instanceof tf.Tensor) {
    const shape = input.shape.length === 4 && input.shape[0] === 1 ? input.shape.slice(1) : input.shape;
    if (shape.length !== 3) {
      throw new DatasetError('bad-option', what, `expected a tensor [H, W, C] or [1, H, W, C], got [${input.shape.join(', ')}]`);
    }
    const values = input.dataSync();
    const data = new Float32Array(values.length);
    for (let i = 0; i < data.length; i++) data[i] = Math.min(1, Math.max(0, (values[i] + 1) / 2));
    return { height: shape[0], width: shape[1], channels: shape[2], data };
  }
  const { width, height, channels } = input;
  if (input.data.length !== width * height * channels) {
    throw new DatasetError('bad-option', what, `holds ${input.data.length} values, not ${width}×${height}×${channels}`);
  }
  const data = new Float32Array(input.data.length);
  if (input.data instanceof Uint8Array) {
    for (let i = 0; i < data.length; i++) data[i] = input.data[i] / 255;
  } else {
    for (let i = 0; i < data.length; i++) data[i] = Math.min(1, Math.max(0, (input.data[i] + 1) / 2));
  }
  return { width, height, channels, data };
}

/** Throws unless the two images have the same shape. */
export function checkSameShape(a: UnitImage, b: UnitImage, names: [string, string]): void {
  if (a.width !== b.width || a.height !== b.height || a.channels !== b.channels) {
    throw new DatasetError(
      'size-mismatch',
      names[0],
      `is ${a.width}×${a.height}×${a.channels} but ${names[1]} is ${b.width}×${b.height}×${b.channels}; compare images of the same size`,
    );
  }
}
