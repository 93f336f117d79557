import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decodeImageFile } from '../decode';
import { toFloatImage } from '../image';
import { tempDir } from '../testing/images';
import { openUnalignedDataset } from '../unaligned-dataset';
import { compareWithTarget, contentKept, domainChanged, objectMask } from './measures';
import { sceneMask } from './scene';
import { synthDataset } from './synth-dataset';
import { writeSynthDataset, type WriteSynthProgress } from './write-synth-dataset';

const mean = (values: number[]): number => values.reduce((s, v) => s + v, 0) / values.length;
const data = synthDataset({ seed: 5, trainCount: 12, testCount: 24 });

let dir: string;
let remove: () => Promise<void>;
beforeAll(async () => ({ dir, remove } = await tempDir()));
afterAll(() => remove());

describe('synthDataset', () => {
  test('is a function of its options: same seed, same images; another seed, other images', () => {
    const small = { seed: 5, trainCount: 3, testCount: 3 };
    const first = synthDataset(small);
    const again = synthDataset(small);
    expect(again).toEqual(first);
    expect(first.trainA.map((s) => s.image)).toEqual(data.trainA.slice(0, 3).map((s) => s.image));
    const other = synthDataset({ ...small, seed: 6 });
    expect(other.trainA[0].image.data).not.toEqual(first.trainA[0].image.data);
    // Each split has its own stream: more training images leave the test set as it was.
    const more = synthDataset({ ...small, trainCount: 4 });
    expect(more.testA).toEqual(first.testA);
    expect(more.trainA.slice(0, 3)).toEqual(first.trainA);
  });

  test('64×64 RGB by default; each test target is its input scene in B style (same background)', () => {
    const { image } = data.testA[0];
    expect([image.width, image.height, image.channels]).toEqual([64, 64, 3]);
    for (let i = 0; i < data.testA.length; i++) {
      const input = data.testA[i];
      const target = data.testATarget[i];
      expect(target.name).toBe(input.name);
      const mask = sceneMask(input.scene);
      let outsideDiffers = 0;
      for (let p = 0; p < mask.length; p++) {
        const inside = (x: number, y: number) => x >= 0 && y >= 0 && x < 64 && y < 64 && mask[y * 64 + x];
        const [x, y] = [p % 64, Math.floor(p / 64)];
        const nearObject = [-1, 0, 1].some((dx) => [-1, 0, 1].some((dy) => inside(x + dx, y + dy)));
        if (!nearObject && [0, 1, 2].some((c) => input.image.data[3 * p + c] !== target.image.data[3 * p + c])) outsideDiffers++;
      }
      expect(outsideDiffers).toBe(0);
    }
  });

  test('its measures separate A from B and kept content from other content', () => {
    const changedA = data.testA.map((s) => domainChanged(s.image));
    const changedB = data.testB.map((s) => domainChanged(s.image));
    const changedTarget = data.testATarget.map((s) => domainChanged(s.image));
    expect(Math.max(...changedA)).toBeLessThan(0.05);
    expect(Math.min(...changedB)).toBeGreaterThan(0.6);
    expect(Math.min(...changedTarget)).toBeGreaterThan(0.6);
    expect(mean(changedB)).toBeGreaterThan(10 * mean(changedA) + 0.5);

    const keptTarget = data.testA.map((s, i) => contentKept(data.testATarget[i].image, s.image));
    const keptOther = data.testA.map((s, i) => contentKept(data.testA[(i + 1) % data.testA.length].image, s.image));
    const keptOtherB = data.testA.map((s, i) => contentKept(data.testB[i].image, s.image));
    expect(Math.min(...keptTarget)).toBeGreaterThan(0.85);
    expect(mean(keptTarget)).toBeGreaterThan(0.93);
    expect(mean(keptOther)).toBeLessThan(0.35);
    expect(mean(keptOtherB)).toBeLessThan(0.35);
    expect(contentKept(data.testA[0].image, data.testA[0].image)).toBe(1);

    // The recovered mask is the drawn object.
    for (const s of data.testA.slice(0, 8)) {
      const [found, truth] = [objectMask(s.image), sceneMask(s.scene)];
      let [inter, union] = [0, 0];
      for (let p = 0; p < found.length; p++) [inter, union] = [inter + (found[p] & truth[p]), union + (found[p] | truth[p])];
      expect(inter / union).toBeGreaterThan(0.9);
    }
  });

  test('compared with the target: the target itself scores perfectly, the input fails on stripes, a shifted phase does not matter', () => {
    for (let i = 0; i < 6; i++) {
      const [input, target] = [data.testA[i].image, data.testATarget[i].image];
      expect(compareWithTarget(target, input, target)).toEqual({ objectIoU: 1, stripeContrast: 1, backgroundChange: 0 });
      // The untranslated input keeps object and background but has no stripes (flat colour: contrast near 0).
      const identity = compareWithTarget(input, input, target);
      expect(identity.objectIoU).toBeGreaterThan(0.85);
      expect(identity.stripeContrast).toBeLessThan(0.1);
      expect(identity.backgroundChange).toBe(0);
    }
    // Stripes in the other phase (light and dark swapped inside the object) are as good as the target's.
    const [input, target, scene] = [data.testA[2].image, data.testATarget[2].image, data.testA[2].scene];
    const swapped = target.data.slice();
    const mask = sceneMask(scene);
    for (let p = 0; p < mask.length; p++) if (mask[p]) for (let c = 0; c < 3; c++) swapped[3 * p + c] = 255 - target.data[3 * p + c];
    const shifted = compareWithTarget({ ...target, data: swapped }, input, target);
    expect(shifted.objectIoU).toBeGreaterThan(0.95);
    expect(shifted.stripeContrast).toBeGreaterThan(0.9);
    expect(shifted.backgroundChange).toBe(0);
    // A brightened background counts, the object region does not.
    const brighter = target.data.map((v, k) => (mask[Math.floor(k / 3)] ? v : Math.min(255, v + 10)));
    expect(compareWithTarget({ ...target, data: brighter }, input, target).backgroundChange).toBeCloseTo(10 / 255, 2);
    expect(() => compareWithTarget(target, input, { ...target, width: 32, data: target.data.slice(0, 32 * 64 * 3) })).toThrow(/target/);
  });

  test('the measures take generator outputs: tensors in [−1, 1], [H, W, C] or [1, H, W, C]; noise is not stripes', async () => {
    await tf.setBackend('cpu');
    const target = data.testATarget[3].image;
    const batch = tf.tensor4d(toFloatImage(target).data, [1, 64, 64, 3]);
    expect(domainChanged(batch)).toBeCloseTo(domainChanged(target), 5);
    const squeezedKept = tf.tidy(() => contentKept(tf.squeeze(batch, [0]), data.testA[3].image));
    expect(squeezedKept).toBeCloseTo(contentKept(target, data.testA[3].image), 5);
    // The A image with strong per-pixel noise in the object: texture, but not the B stripes.
    const noisy = data.testA[3].image.data.slice();
    const mask = sceneMask(data.testA[3].scene);
    for (let p = 0; p < mask.length; p++) if (mask[p]) for (let c = 0; c < 3; c++) noisy[3 * p + c] = (p * 7919 + c * 104729) % 2 ? 230 : 30;
    expect(domainChanged({ width: 64, height: 64, channels: 3, data: noisy })).toBeLessThan(0.15);
    tf.dispose(batch);
  });

  test('writeSynthDataset writes the official layout plus testA_target, openable as a dataset', async () => {
    const root = join(dir, 'synth');
    const progress: WriteSynthProgress[] = [];
    const result = await writeSynthDataset(root, { seed: 5, trainCount: 12, testCount: 24, onProgress: (p) => progress.push(p) });
    expect(result.counts).toEqual({ trainA: 12, trainB: 12, testA: 24, testB: 24, testA_target: 24 });
    expect(progress.at(-1)).toEqual({ written: 96, total: 96, folder: 'testA_target' });
    expect((await readdir(root)).sort()).toEqual(['synth.json', 'testA', 'testA_target', 'testB', 'trainA', 'trainB']);
    expect(await readdir(join(root, 'testA_target'))).toEqual(await readdir(join(root, 'testA')));
    expect(JSON.parse(await readFile(join(root, 'synth.json'), 'utf8'))).toMatchObject({ seed: 5, size: 64 });
    expect(await decodeImageFile(join(root, 'testA_target', '000003.png'))).toEqual(data.testATarget[3].image);
    expect(await decodeImageFile(join(root, 'trainB', '000011.png'))).toEqual(data.trainB[11].image);
    const opened = await openUnalignedDataset({ dataroot: root, phase: 'test', cropSize: 64 });
    expect([opened.sizeA, opened.sizeB]).toEqual([24, 24]);
  });
});
