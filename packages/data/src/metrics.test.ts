import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, test } from 'vitest';
import { toFloatImage, type ByteImage } from './image';
import { psnr, ssim } from './metrics';

function pattern(width: number, height: number, value: (x: number, y: number, c: number) => number): ByteImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = value(x, y, c) % 256;
  return { width, height, channels: 3, data };
}

// References from scikit-image 0.19: structural_similarity(a/255, b/255, gaussian_weights=True, sigma=1.5,
// use_sample_covariance=False, data_range=1, channel_axis=-1) and peak_signal_noise_ratio(…, data_range=1).
const a = pattern(23, 17, (x, y, c) => x * 7 + y * 13 + c * 61 + ((x * y) % 11));
const b = pattern(23, 17, (x, y, c) => x * 5 + y * 17 + c * 31 + ((x + y * y) % 23));

describe('psnr and ssim', () => {
  test('match scikit-image', () => {
    expect(ssim(a, b)).toBeCloseTo(0.26732417792529695, 8);
    expect(psnr(a, b)).toBeCloseTo(9.846693232152267, 6);
  });

  test('identical images: Infinity and 1; the forms of an image agree', async () => {
    await tf.setBackend('cpu');
    const float = toFloatImage(a);
    const tensor = tf.tensor4d(float.data, [1, 17, 23, 3]);
    expect(psnr(a, a)).toBe(Infinity);
    expect(ssim(a, a)).toBeCloseTo(1, 12);
    expect(ssim(tensor, b)).toBeCloseTo(ssim(a, b), 6);
    expect(psnr(float, b)).toBeCloseTo(psnr(a, b), 6);
    tensor.dispose();
  });

  test('images of different sizes: an error naming both sizes', () => {
    expect(() => psnr(a, pattern(5, 5, () => 0))).toThrow(/^output: is 23×17×3 but target is 5×5×3/);
  });
});
