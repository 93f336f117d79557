// Test-only helpers: small generated images written in each format.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import type { ByteImage } from '../image';

/** A deterministic RGB test image: a smooth pattern plus a value per pixel, so crops and flips are traceable. */
export function testImage(width: number, height: number, seed = 0): ByteImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = (x * 7 + y * 13 + c * 61 + seed * 29 + ((x * y) % 11)) % 256;
    }
  }
  return { width, height, channels: 3, data };
}

export type TestFormat = 'png' | 'jpeg' | 'webp';

/**
 * Writes `image` to `path` in `format`; `channels` 1 writes a gray file, 4 adds an alpha channel (values
 * 0…255 varying) that readers must drop. WebP is written lossless so that it decodes to the same pixels.
 */
export async function writeTestImage(path: string, image: ByteImage, format: TestFormat, channels: 1 | 3 | 4 = 3): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const { width, height } = image;
  let raw: Uint8Array = image.data;
  if (channels === 1) {
    raw = new Uint8Array(width * height);
    for (let i = 0; i < raw.length; i++) raw[i] = image.data[3 * i];
  } else if (channels === 4) {
    raw = new Uint8Array(width * height * 4);
    for (let i = 0; i < width * height; i++) {
      raw.set(image.data.subarray(3 * i, 3 * i + 3), 4 * i);
      raw[4 * i + 3] = (i * 37) % 256;
    }
  }
  let pipeline = sharp(raw, { raw: { width, height, channels } });
  if (channels === 1) pipeline = pipeline.toColourspace('b-w');
  const encoded =
    format === 'png' ? pipeline.png() : format === 'jpeg' ? pipeline.jpeg({ quality: 95 }) : pipeline.webp({ lossless: true, exact: true });
  await writeFile(path, await encoded.toBuffer());
}

/** A PNG cut short: its header reads, its pixels do not. */
export async function writeTruncatedPng(path: string, image: ByteImage): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const bytes = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).png().toBuffer();
  await writeFile(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
}

/** A temporary folder, and a function that removes it. */
export async function tempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'qsattn-data-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
