// Fuzzed image files: a damaged, truncated or lying PNG, JPEG or WebP must decode to a well-formed image or
// give our one-line DatasetError naming the file; a header declaring a huge image is refused unread.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { expectReadOrTypedError, fuzzProperty, mutatedBytes, mutationArbitrary } from '../../core/src/testing/fuzz';
import { fc } from '@fast-check/vitest';
import { crc32 } from '../../core/src/io/crc32';
import { decodeImageFile, MAX_IMAGE_PIXELS, readImageHeader } from './decode';
import { DatasetError } from './errors';
import { tempDir, testImage, writeTestImage, type TestFormat } from './testing/images';

let dir: string;
let remove: () => Promise<void>;
const seeds: Uint8Array[] = [];

beforeAll(async () => {
  ({ dir, remove } = await tempDir());
  const formats: [TestFormat, 1 | 3 | 4][] = [['png', 3], ['png', 1], ['png', 4], ['jpeg', 3], ['webp', 3]];
  for (const [i, [format, channels]] of formats.entries()) {
    const path = join(dir, `seed${i}.${format}`);
    await writeTestImage(path, testImage(12, 9, i), format, channels);
    seeds.push(new Uint8Array(await readFile(path)));
  }
});
afterAll(() => remove());

let counter = 0;
/** Writes the bytes to a file of its own and decodes it: an image of consistent size, or a typed error. */
async function decodeBytes(bytes: Uint8Array, channels: 1 | 3): Promise<'read' | 'refused'> {
  const path = join(dir, `case${counter++}.png`);
  await writeFile(path, bytes);
  const header = await expectReadOrTypedError(() => readImageHeader(path), DatasetError, `${path}: `, (size) =>
    expect(size.width * size.height).toBeLessThanOrEqual(MAX_IMAGE_PIXELS),
  );
  const decoded = await expectReadOrTypedError(() => decodeImageFile(path, channels), DatasetError, `${path}: `, (image) => {
    expect(image.channels).toBe(channels);
    expect(image.data.length).toBe(image.width * image.height * channels);
    expect(image.width * image.height).toBeLessThanOrEqual(MAX_IMAGE_PIXELS);
  });
  return header === 'read' && decoded === 'read' ? 'read' : 'refused';
}

describe('image files', () => {
  // The seeds are made in beforeAll: the arbitrary picks one by index and mutates it in the check.
  fuzzProperty('images', 'mutated PNG, JPEG and WebP files', fc.tuple(fc.nat(), fc.array(mutationArbitrary(), { minLength: 1, maxLength: 3 }), fc.constantFrom<1 | 3>(1, 3)), ([i, mutations, channels]) =>
    decodeBytes(mutations.reduce<Uint8Array>((b, mutate) => mutate(b), seeds[i % seeds.length]), channels),
  100);
  fuzzProperty('images', 'random bytes', mutatedBytes([new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), new Uint8Array([0xff, 0xd8, 0xff]), new TextEncoder().encode('RIFF\0\0\0\0WEBPVP8 ')]), (bytes) => decodeBytes(bytes, 3), 50);

  test('a decompression bomb (a small PNG declaring 20000×20000 pixels) is refused from its header', async () => {
    // A real 1×1 PNG whose IHDR (bytes 16..24, CRC over 12..29) is made to declare 20000×20000.
    const bomb = new Uint8Array(await sharp(new Uint8Array(3), { raw: { width: 1, height: 1, channels: 3 } }).png().toBuffer());
    const view = new DataView(bomb.buffer, bomb.byteOffset);
    view.setUint32(16, 20000);
    view.setUint32(20, 20000);
    view.setUint32(29, crc32(bomb.subarray(12, 29)));
    const path = join(dir, 'bomb.png');
    await writeFile(path, bomb);
    const before = process.memoryUsage().rss;
    await expect(readImageHeader(path)).rejects.toThrow(/^.*bomb\.png: the image is more than the 89478485-pixel limit \(a decompression bomb\?\); .*skipBadImages/);
    await expect(decodeImageFile(path)).rejects.toThrow(/bomb\.png: the image is more than the 89478485-pixel limit .*skipBadImages/);
    expect(process.memoryUsage().rss - before).toBeLessThan(256 * 2 ** 20);
  });
});
