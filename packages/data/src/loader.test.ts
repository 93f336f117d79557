import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Rng } from '@qsattn/core';
import { beforeAll, describe, expect, test } from 'vitest';
import type { ByteImage } from './image';
import { UnalignedLoader, type UnalignedBatch } from './loader';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SkippedBatch } from './loader';
import { tempDir, testImage, writeTestImage } from './testing/images';
import { openUnalignedDataset, UnalignedDataset, unalignedDatasetFromImages, type ImageEntry, type ResolvedDatasetOptions } from './unaligned-dataset';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const named = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ({ name: `${prefix}${i}`, image: testImage(12, 10, i) }));

/** Runs `count` batches (across epochs), returning what identifies them, and disposes the tensors. */
async function take(loader: UnalignedLoader, count: number, finetuning = false) {
  const out: { pathsA: string[]; pathsB: string[]; a: number[]; epoch: number; step: number }[] = [];
  while (out.length < count) {
    for await (const batch of loader.epoch({ finetuning })) {
      out.push(summary(batch));
      tf.dispose([batch.A, batch.B]);
      if (out.length === count) break;
    }
  }
  return out;
}

function summary(batch: UnalignedBatch) {
  return { pathsA: batch.pathsA, pathsB: batch.pathsB, a: Array.from(batch.A.dataSync().slice(0, 40)), epoch: batch.epoch, step: batch.step };
}

describe('UnalignedLoader', () => {
  test('an epoch: shuffled indices like a DataLoader with shuffle, A[i mod |A|], drop_last, NHWC tensors', async () => {
    const data = unalignedDatasetFromImages(named('a', 3), named('b', 7), { preprocess: 'none', flip: false });
    const loader = new UnalignedLoader(data, { batchSize: 2, seed: 4 });
    expect(loader.batchesPerEpoch).toBe(3); // ⌊7 / 2⌋
    const mirror = new Rng(4);
    const order = mirror.permutation(7);
    const expectedB = Array.from({ length: 6 }, () => `b${mirror.int(7)}`);
    const before = tf.memory().numTensors;
    const batches: UnalignedBatch[] = [];
    for await (const batch of loader.epoch()) batches.push(batch);
    expect(tf.memory().numTensors).toBe(before + 6);
    expect(batches.map((b) => b.step)).toEqual([0, 1, 2]);
    expect(batches[0].A.shape).toEqual([2, 8, 12, 3]); // 10 rows → round(2.5) = 2 (half to even) → 8
    expect(batches.flatMap((b) => b.pathsA)).toEqual(Array.from(order.slice(0, 6), (i) => `a${i % 3}`));
    expect(batches.flatMap((b) => b.pathsB)).toEqual(expectedB);
    tf.dispose(batches.flatMap((b) => [b.A, b.B]));
    expect(tf.memory().numTensors).toBe(before);
    expect(loader.getState()).toMatchObject({ epoch: 1, step: 0 });
  });

  test('serialBatches: A and B in order, no shuffle', async () => {
    const data = unalignedDatasetFromImages(named('a', 5), named('b', 2), { preprocess: 'none', flip: false, serialBatches: true });
    const batches = await take(new UnalignedLoader(data, { seed: 1 }), 5);
    expect(batches.map((b) => [b.pathsA[0], b.pathsB[0]])).toEqual([
      ['a0', 'b0'],
      ['a1', 'b1'],
      ['a2', 'b0'],
      ['a3', 'b1'],
      ['a4', 'b0'],
    ]);
  });

  test('seeded, and a saved state continues with the same batches, across an epoch boundary and processes', async () => {
    const data = unalignedDatasetFromImages(named('a', 4), named('b', 5), { loadSize: 14, cropSize: 8 });
    const all = await take(new UnalignedLoader(data, { seed: 7, batchSize: 2 }), 7);
    expect(all.map((b) => [b.epoch, b.step])).toEqual([[0, 0], [0, 1], [1, 0], [1, 1], [2, 0], [2, 1], [3, 0]]);
    expect(await take(new UnalignedLoader(data, { seed: 7, batchSize: 2 }), 7)).toEqual(all);
    expect(await take(new UnalignedLoader(data, { seed: 8, batchSize: 2 }), 7)).not.toEqual(all);

    for (const stopAt of [1, 2, 3]) {
      const loader = new UnalignedLoader(data, { seed: 7, batchSize: 2, prefetch: 3 });
      expect(await take(loader, stopAt)).toEqual(all.slice(0, stopAt));
      const saved = JSON.parse(JSON.stringify(loader.getState()));
      // The same loader continues where it stopped (batches decoded ahead are dropped, not skipped) …
      expect(await take(loader, 7 - stopAt)).toEqual(all.slice(stopAt));
      // … and so does a new one given the saved state.
      const resumed = new UnalignedLoader(data, { seed: 123, batchSize: 2 });
      resumed.setState(saved);
      expect(await take(resumed, 7 - stopAt)).toEqual(all.slice(stopAt));
    }
  });

  test('finetuning is an option of the epoch, and an epoch in progress continues only with the same value', async () => {
    const data = unalignedDatasetFromImages(named('a', 4), named('b', 4), { loadSize: 14, cropSize: 8 });
    const loader = new UnalignedLoader(data, { seed: 2 });
    const iterator = loader.epoch({ finetuning: true });
    const first = (await iterator.next()).value as UnalignedBatch;
    expect(first.A.shape).toEqual([1, 8, 8, 3]);
    tf.dispose([first.A, first.B]);
    await iterator.return(undefined);
    expect(loader.getState()).toMatchObject({ epoch: 0, step: 1, finetuning: true });
    await expect(loader.epoch({ finetuning: false }).next()).rejects.toThrow(/^finetuning: epoch 0 was started with finetuning true/);
    expect((await take(loader, 3, true)).map((b) => b.step)).toEqual([1, 2, 3]);
  });

  test('one iteration at a time: starting another ends the first', async () => {
    const data = unalignedDatasetFromImages(named('a', 4), named('b', 4), { preprocess: 'none' });
    const loader = new UnalignedLoader(data);
    const older = loader.epoch();
    const first = (await older.next()).value as UnalignedBatch;
    const newer = loader.epoch();
    const second = (await newer.next()).value as UnalignedBatch;
    expect(second.step).toBe(1);
    await expect(older.next()).rejects.toThrow(/^loader: a newer epoch\(\) iteration was started/);
    tf.dispose([first.A, first.B, second.A, second.B]);
    await newer.return(undefined);
  });

  test('decodes ahead: while a batch is in use the next `prefetch` batches are already loading', async () => {
    let started = 0;
    const image: ByteImage = testImage(8, 8);
    const entries: ImageEntry[] = Array.from({ length: 10 }, (_, i) => ({
      path: `x${i}`,
      size: { width: 8, height: 8 },
      load: async () => {
        started++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        return image;
      },
    }));
    const options: ResolvedDatasetOptions = {
      phase: 'train',
      preprocess: 'none',
      loadSize: 8,
      cropSize: 8,
      flip: false,
      serialBatches: true,
      inputNc: 3,
      outputNc: 3,
      maxDatasetSize: Infinity,
      skipBadImages: false,
    };
    const loader = new UnalignedLoader(new UnalignedDataset(entries, entries, options), { prefetch: 3 });
    const iterator = loader.epoch();
    const batch = (await iterator.next()).value as UnalignedBatch;
    tf.dispose([batch.A, batch.B]);
    // Batch 0 plus 3 ahead, 2 images (A and B) each.
    expect(started).toBe(8);
    await iterator.return(undefined);
  });

  test('bad options name the option and the fix', () => {
    const data = unalignedDatasetFromImages(named('a', 2), named('b', 3), {});
    expect(() => new UnalignedLoader(data, { batchSize: 4 })).toThrow(/^batchSize: 4 is more than the 3 samples of an epoch/);
    expect(() => new UnalignedLoader(data, { prefetch: -1 })).toThrow(/^prefetch: must be a non-negative integer/);
    const loader = new UnalignedLoader(data);
    expect(() => loader.setState({ ...loader.getState(), step: 3 })).toThrow(/^loader state: epoch 0, step 3 is not a position/);
  });

  test('an image that disappears or turns corrupt mid-run: its batch skipped and reported with skipBadImages, else an error naming it', async () => {
    const { dir, remove } = await tempDir();
    try {
      for (const domain of ['A', 'B']) for (let i = 0; i < 4; i++) await writeTestImage(join(dir, domain, `${i}.png`), testImage(12, 10, i), 'png');
      const open = (skipBadImages: boolean) =>
        openUnalignedDataset({ dirA: join(dir, 'A'), dirB: join(dir, 'B'), preprocess: 'none', serialBatches: true, flip: false, skipBadImages });
      const lenient = await open(true);
      const strict = await open(false);
      await rm(join(dir, 'A', '1.png'));
      await writeFile(join(dir, 'A', '2.png'), 'garbage');
      const skipped: SkippedBatch[] = [];
      const loader = new UnalignedLoader(lenient, { onSkip: (s) => skipped.push(s) });
      const steps: number[] = [];
      for await (const batch of loader.epoch()) {
        steps.push(batch.step);
        tf.dispose([batch.A, batch.B]);
      }
      expect(steps).toEqual([0, 3]);
      expect(skipped.map((s) => [s.step, s.path])).toEqual([[1, join(dir, 'A', '1.png')], [2, join(dir, 'A', '2.png')]]);
      expect(skipped[1].reason).toMatch(/not a readable PNG, JPEG or WebP image/);
      expect(loader.getState()).toMatchObject({ epoch: 1, step: 0 });

      const strictLoader = new UnalignedLoader(strict);
      const iterator = strictLoader.epoch();
      const first = (await iterator.next()).value as UnalignedBatch;
      tf.dispose([first.A, first.B]);
      await expect(iterator.next()).rejects.toThrow(new RegExp(`^${join(dir, 'A', '1.png')}: cannot read the file \\(ENOENT\\).*skipBadImages`));
      expect(strictLoader.getState()).toMatchObject({ epoch: 0, step: 1 });
    } finally {
      await remove();
    }
  });
});
