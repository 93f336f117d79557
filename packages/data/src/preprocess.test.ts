import { Rng } from '@qsattn/core';
import { describe, expect, test } from 'vitest';
import { DatasetError } from './errors';
import { cropImage, flipHorizontal, toFloatImage } from './image';
import { resizeBicubic } from './pil-resize';
import { applyTransform, checkPreprocessOptions, planTransform, type PreprocessOptions } from './preprocess';
import { testImage } from './testing/images';
import { unalignedDatasetFromImages } from './unaligned-dataset';

const source = testImage(50, 30);

describe('every preprocess mode: output size and value range', () => {
  // 50×30 source. Expected sizes follow the official code, including Python's round-half-even in __make_power_2.
  const cases: [PreprocessOptions['preprocess'], number, number, [number, number]][] = [
    ['resize_and_crop', 40, 32, [32, 32]],
    ['crop', 40, 24, [24, 24]],
    ['scale_width', 36, 16, [36, 20]], // 36 × trunc(max(36·30/50, 16)) = 36×21 → ×4: 36×20
    ['scale_width_and_crop', 36, 16, [16, 16]],
    ['none', 40, 32, [48, 32]], // round(12.5) = 12 → 48; round(7.5) = 8 → 32
    ['crop', 40, 30, [32, 32]], // 30×30 crop, then 30 → round(7.5)·4 = 32
  ];
  test.each(cases)('%s (load %i, crop %i) → %j', async (preprocess, loadSize, cropSize, [w, h]) => {
    const data = unalignedDatasetFromImages([{ name: 'a', image: source }], [{ name: 'b', image: testImage(50, 30, 1) }], {
      preprocess,
      loadSize,
      cropSize,
    });
    const rng = new Rng(3);
    for (let i = 0; i < 4; i++) {
      const { A, B } = await data.sample(i, rng);
      for (const image of [A, B]) {
        expect([image.width, image.height, image.channels]).toEqual([w, h, 3]);
        expect(image.data.length).toBe(w * h * 3);
        expect(Math.min(...image.data)).toBeGreaterThanOrEqual(-1);
        expect(Math.max(...image.data)).toBeLessThanOrEqual(1);
      }
    }
  });

  test('the pixels: resize, crop, flip as planned; [−1, 1] as ToTensor + Normalize(0.5, 0.5)', () => {
    const options: PreprocessOptions = { preprocess: 'resize_and_crop', loadSize: 40, cropSize: 32, flip: true };
    const rng = new Rng(11);
    for (let i = 0; i < 8; i++) {
      const plan = planTransform(source, options, rng, 'a');
      const { x, y } = plan.crop!;
      let expected = cropImage(resizeBicubic(source, 40, 40), x, y, 32, 32);
      if (plan.flip) expected = flipHorizontal(expected);
      expect(applyTransform(source, plan)).toEqual(expected);
    }
    const f = toFloatImage({ width: 1, height: 1, channels: 3, data: new Uint8Array([0, 128, 255]) });
    expect(Array.from(f.data)).toEqual([-1, Math.fround(Math.fround(128 / 255) - 0.5) / 0.5, 1]);
  });

  test('random choices: row then column of the crop, then the flip, from the Rng', () => {
    const options: PreprocessOptions = { preprocess: 'resize_and_crop', loadSize: 40, cropSize: 32, flip: true };
    const rng = new Rng(5);
    const mirror = new Rng(5);
    const plans = Array.from({ length: 20 }, () => planTransform(source, options, rng, 'a'));
    for (const plan of plans) {
      const y = mirror.int(9);
      const x = mirror.int(9);
      const flip = mirror.uniform() < 0.5;
      expect(plan.crop).toEqual({ x, y, size: 32 });
      expect(plan.flip).toBe(flip);
    }
    expect(new Set(plans.map((p) => p.flip)).size).toBe(2);
  });

  test('finetuning (loadSize = cropSize) removes the resize-crop augmentation and draws no crop', async () => {
    const data = unalignedDatasetFromImages([{ name: 'a', image: source }], [{ name: 'b', image: source }], {
      loadSize: 40,
      cropSize: 32,
      flip: false,
      serialBatches: true,
    });
    const rng = new Rng(1);
    const before = rng.getState();
    const { A } = await data.sample(0, rng, { finetuning: true });
    expect(rng.getState()).toEqual(before);
    expect(A).toEqual(toFloatImage(resizeBicubic(source, 32, 32)));
  });

  test('test phase: loadSize = cropSize, no flip, serial B', async () => {
    const data = unalignedDatasetFromImages([{ name: 'a', image: source }], [{ name: 'b0', image: source }, { name: 'b1', image: source }], {
      phase: 'test',
      cropSize: 32,
    });
    expect(data.options).toMatchObject({ loadSize: 32, flip: false, serialBatches: true });
    const rng = new Rng(1);
    const before = rng.getState();
    const s1 = await data.sample(1, rng);
    expect(rng.getState()).toEqual(before);
    expect(s1.pathB).toBe('b1');
    expect(s1.A).toEqual(toFloatImage(resizeBicubic(source, 32, 32)));
  });

  test('bad options and too-small images name the option or file and the fix', () => {
    expect(() => checkPreprocessOptions({ preprocess: 'zoom' as never, loadSize: 1, cropSize: 1, flip: true })).toThrow(
      /^preprocess: unknown mode 'zoom'; use one of resize_and_crop, crop/,
    );
    expect(() => checkPreprocessOptions({ preprocess: 'resize_and_crop', loadSize: 20, cropSize: 32, flip: true })).toThrow(
      /^loadSize: 20 is smaller than cropSize 32/,
    );
    const error = (() => {
      try {
        planTransform({ width: 20, height: 40 }, { preprocess: 'crop', loadSize: 1, cropSize: 32, flip: false }, new Rng(0), 'x/small.png');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(DatasetError);
    expect((error as DatasetError).message).toMatch(/^x\/small.png: 20×40 is smaller than cropSize 32; lower cropSize or use preprocess/);
  });
});
