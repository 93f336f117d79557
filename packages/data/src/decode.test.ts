import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decodeImageFile, readImageHeader, writePng } from './decode';
import { DatasetError } from './errors';
import { rgbToGray } from './image';
import { tempDir, testImage, writeTestImage, writeTruncatedPng } from './testing/images';

let dir: string;
let remove: () => Promise<void>;
beforeAll(async () => ({ dir, remove } = await tempDir()));
afterAll(() => remove());

const image = testImage(9, 6);

describe('decodeImageFile', () => {
  test.each(['png', 'webp'] as const)('%s RGB decodes to the same pixels', async (format) => {
    const path = join(dir, `rgb.${format}`);
    await writeTestImage(path, image, format);
    expect(await readImageHeader(path)).toEqual({ width: 9, height: 6 });
    expect(await decodeImageFile(path)).toEqual(image);
  });

  test('JPEG decodes to RGB close to the source', async () => {
    const path = join(dir, 'rgb.jpg');
    await writeTestImage(path, image, 'jpeg');
    const out = await decodeImageFile(path);
    expect([out.width, out.height, out.channels]).toEqual([9, 6, 3]);
    const meanError = out.data.reduce((s, v, i) => s + Math.abs(v - image.data[i]), 0) / out.data.length;
    expect(meanError).toBeLessThan(12);
  });

  test.each(['png', 'webp'] as const)('gray %s is repeated into three channels (PIL convert("RGB"))', async (format) => {
    const path = join(dir, `gray.${format}`);
    await writeTestImage(path, image, format, 1);
    const out = await decodeImageFile(path);
    expect(out.channels).toBe(3);
    for (let i = 0; i < 9 * 6; i++) {
      expect([out.data[3 * i], out.data[3 * i + 1], out.data[3 * i + 2]]).toEqual(Array(3).fill(image.data[3 * i]));
    }
  });

  test.each(['png', 'webp'] as const)('RGBA %s drops the alpha channel without compositing', async (format) => {
    const path = join(dir, `rgba.${format}`);
    await writeTestImage(path, image, format, 4);
    expect(await decodeImageFile(path)).toEqual(image);
  });

  test('channels 1 converts to gray as PIL does', async () => {
    const path = join(dir, 'for-gray.png');
    await writeTestImage(path, image, 'png');
    expect(await decodeImageFile(path, 1)).toEqual(rgbToGray(image));
  });

  test('writePng round-trips RGB and gray', async () => {
    await writePng(join(dir, 'w.png'), image);
    expect(await decodeImageFile(join(dir, 'w.png'))).toEqual(image);
    await writePng(join(dir, 'g.png'), rgbToGray(image));
    expect(await decodeImageFile(join(dir, 'g.png'), 1)).toEqual(rgbToGray(image));
  });

  test('a missing file, a non-image and a truncated PNG give errors that name the file and the fix', async () => {
    const missing = join(dir, 'nope.png');
    await expect(decodeImageFile(missing)).rejects.toMatchObject({ code: 'unreadable-image', subject: missing });
    const garbage = join(dir, 'garbage.png');
    await writeFile(garbage, 'not an image at all');
    const error = await readImageHeader(garbage).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatasetError);
    expect((error as DatasetError).code).toBe('corrupt-image');
    expect((error as DatasetError).message).toMatch(new RegExp(`^${garbage}: .*skipBadImages`));
    expect((error as DatasetError).message).not.toContain('\n');
    const truncated = join(dir, 'truncated.png');
    await writeTruncatedPng(truncated, testImage(64, 64));
    expect(await readImageHeader(truncated)).toEqual({ width: 64, height: 64 });
    await expect(decodeImageFile(truncated)).rejects.toMatchObject({ code: 'corrupt-image', subject: truncated });
  });
});
