import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng } from '@qsattn/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DatasetError } from './errors';
import { toFloatImage } from './image';
import { tempDir, testImage, writeTestImage, writeTruncatedPng } from './testing/images';
import { openUnalignedDataset, unalignedDatasetFromImages, type SkippedImage } from './unaligned-dataset';

let root: string;
let remove: () => Promise<void>;
beforeAll(async () => {
  ({ dir: root, remove } = await tempDir());
  // The official layout, mixed formats, one image in a sub-folder.
  await writeTestImage(join(root, 'trainA', 'a0.png'), testImage(20, 16, 0), 'png');
  await writeTestImage(join(root, 'trainA', 'a1.jpg'), testImage(20, 16, 1), 'jpeg');
  await writeTestImage(join(root, 'trainA', 'sub', 'a2.webp'), testImage(20, 16, 2), 'webp');
  await writeFile(join(root, 'trainA', 'notes.txt'), 'not an image');
  for (let i = 0; i < 5; i++) await writeTestImage(join(root, 'trainB', `b${i}.png`), testImage(24, 20, 10 + i), 'png', i % 2 ? 4 : 1);
  await writeTestImage(join(root, 'valA', 'v.png'), testImage(16, 16), 'png');
  await writeTestImage(join(root, 'valB', 'v.png'), testImage(16, 16), 'png');
});
afterAll(() => remove());

const small = { preprocess: 'resize_and_crop', loadSize: 18, cropSize: 16 } as const;

describe('openUnalignedDataset', () => {
  test('lists <dataroot>/trainA and trainB sorted, with sub-folders, skipping other files', async () => {
    const data = await openUnalignedDataset({ dataroot: root, ...small });
    expect(data.entriesA.map((e) => e.path)).toEqual(['a0.png', 'a1.jpg', 'sub/a2.webp'].map((f) => join(root, 'trainA', f)));
    expect(data.sizeB).toBe(5);
    expect(data.length).toBe(5);
    const sample = await data.sample(0, new Rng(0));
    expect([sample.A.width, sample.A.height, sample.A.channels]).toEqual([16, 16, 3]);
    expect(sample.pathA).toBe(join(root, 'trainA', 'a0.png'));
  });

  test('any two folders, gray output channels, maxDatasetSize', async () => {
    const data = await openUnalignedDataset({
      dirA: join(root, 'trainB'),
      dirB: join(root, 'trainA'),
      ...small,
      inputNc: 1,
      maxDatasetSize: 2,
    });
    expect([data.sizeA, data.sizeB]).toEqual([2, 2]);
    const { A, B } = await data.sample(1, new Rng(0));
    expect([A.channels, B.channels]).toEqual([1, 3]);
    expect(A.data.length).toBe(16 * 16);
  });

  test('test phase falls back to valA/valB when testA is missing', async () => {
    const data = await openUnalignedDataset({ dataroot: root, phase: 'test', cropSize: 16 });
    expect(data.entriesA[0].path).toBe(join(root, 'valA', 'v.png'));
  });

  test('a missing folder, an empty one, one with no supported images: errors that name it and the fix', async () => {
    const missing = openUnalignedDataset({ dataroot: join(root, 'nowhere') });
    await expect(missing).rejects.toThrow(new RegExp(`^${join(root, 'nowhere', 'trainA')}: folder not found; point dataroot at`));
    await mkdir(join(root, 'empty'));
    await expect(openUnalignedDataset({ dirA: join(root, 'empty'), dirB: join(root, 'trainB') })).rejects.toMatchObject({
      code: 'empty-folder',
      subject: join(root, 'empty'),
    });
    await mkdir(join(root, 'bmp'));
    await writeFile(join(root, 'bmp', 'x.bmp'), 'BM');
    await expect(openUnalignedDataset({ dirA: join(root, 'bmp'), dirB: join(root, 'trainB') })).rejects.toThrow(
      /no PNG, JPEG or WebP images \(other files found: \.bmp\); add images to it or convert them to PNG/,
    );
    await expect(openUnalignedDataset({ dirA: join(root, 'trainA') })).rejects.toThrow(/^dirB: is missing/);
  });

  test('corrupt images: an error naming the file, or skipped and reported with skipBadImages', async () => {
    const dirA = join(root, 'badA');
    await writeTestImage(join(dirA, 'good0.png'), testImage(20, 16), 'png');
    await writeTestImage(join(dirA, 'good1.png'), testImage(20, 16, 1), 'png');
    await writeTruncatedPng(join(dirA, 'truncated.png'), testImage(64, 64));
    const options = { dirA, dirB: join(root, 'trainB'), ...small, serialBatches: true };

    // A truncated file has a good header, so it fails when decoded, naming the file.
    const strict = await openUnalignedDataset(options);
    await expect(strict.sample(2, new Rng(0))).rejects.toMatchObject({ code: 'corrupt-image', subject: join(dirA, 'truncated.png') });
    // A file that is not an image at all fails when the dataset opens.
    await writeFile(join(dirA, 'garbage.jpg'), 'garbage');
    const error = await openUnalignedDataset(options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatasetError);
    expect((error as DatasetError).message).toMatch(new RegExp(`^${join(dirA, 'garbage.jpg')}: .*set skipBadImages`));

    const events: SkippedImage[] = [];
    const lenient = await openUnalignedDataset({ ...options, skipBadImages: true, onSkip: (s) => events.push(s) });
    expect(lenient.entriesA.map((e) => e.path)).toEqual([join(dirA, 'good0.png'), join(dirA, 'good1.png')]);
    expect(lenient.skipped.map((s) => [s.path, s.domain])).toEqual([
      [join(dirA, 'garbage.jpg'), 'A'],
      [join(dirA, 'truncated.png'), 'A'],
    ]);
    expect(events).toEqual(lenient.skipped);
    for (let i = 0; i < lenient.length; i++) await lenient.sample(i, new Rng(0));
  });
});

describe('the official A/B drawing rule', () => {
  const named = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ({ name: `${prefix}${i}`, image: testImage(8, 8, i) }));
  const plain = { preprocess: 'none', flip: false } as const;

  test('index i: A[i mod |A|] with a random B drawn from the Rng, or B[i mod |B|] with serialBatches', () => {
    const random = unalignedDatasetFromImages(named('a', 3), named('b', 5), plain);
    expect(random.length).toBe(5);
    const rng = new Rng(9);
    const mirror = new Rng(9);
    for (let i = 0; i < 12; i++) {
      const plan = random.planSample(i, rng);
      expect(plan.indexA).toBe(i % 3);
      expect(plan.indexB).toBe(mirror.int(5));
    }
    const serial = unalignedDatasetFromImages(named('a', 7), named('b', 3), { ...plain, serialBatches: true });
    expect(serial.length).toBe(7);
    const before = rng.getState();
    for (let i = 0; i < 10; i++) expect(serial.planSample(i, rng)).toMatchObject({ indexA: i % 7, indexB: i % 3 });
    expect(rng.getState()).toEqual(before);
  });

  test('seeded: the same Rng state gives the same samples, and a saved state gives the same next samples', async () => {
    const data = unalignedDatasetFromImages(named('a', 4), named('b', 6), { loadSize: 10, cropSize: 8 });
    const run = async (rng: Rng, from: number, count: number) => {
      const out = [];
      for (let i = from; i < from + count; i++) out.push(await data.sample(i, rng));
      return out;
    };
    const first = await run(new Rng(42), 0, 6);
    expect(await run(new Rng(42), 0, 6)).toEqual(first);
    expect(await run(new Rng(43), 0, 6)).not.toEqual(first);

    const rng = new Rng(42);
    await run(rng, 0, 3);
    const saved = rng.getState();
    const next = await run(rng, 3, 3);
    expect(next).toEqual(first.slice(3));
    expect(await run(Rng.fromState(JSON.parse(JSON.stringify(saved))), 3, 3)).toEqual(next);
  });

  test('in-memory gray images are read as RGB, as PIL convert("RGB") reads gray files', async () => {
    const rgb = testImage(8, 8);
    const gray = { width: 8, height: 8, channels: 1 as const, data: rgb.data.filter((_, i) => i % 3 === 0) };
    const data = unalignedDatasetFromImages([{ name: 'g', image: gray }], [{ name: 'b', image: rgb }], plain);
    const { A } = await data.sample(0, new Rng(0));
    const expected = toFloatImage({ ...gray, channels: 3, data: Uint8Array.from(rgb.data, (_, i) => gray.data[Math.floor(i / 3)]) });
    expect(A).toEqual(expected);
  });
});
