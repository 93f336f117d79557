import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { rgbToGray, type ByteImage } from './image';
import { resizeBicubic } from './pil-resize';
import { PIL_REFERENCE } from './testing/pil-reference';

/*
 * The reference bytes were made with Pillow 9.4:
 *   im = Image.frombytes('RGB', (7, 5), bytes((x*37 + y*91 + c*53 + x*x*y) % 256 for y, x, c in …))
 *   im.resize((w, h), Image.BICUBIC).tobytes().hex(); im.convert('L'); and for the 40×30 image
 *   ((x*13 + y*7 + c*101 + (x*y) % 17) % 256) the sha256 of the resized bytes.
 */
function pattern(width: number, height: number, value: (x: number, y: number, c: number) => number): ByteImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = value(x, y, c) % 256;
  return { width, height, channels: 3, data };
}

const small = pattern(7, 5, (x, y, c) => x * 37 + y * 91 + c * 53 + x * x * y);
const big = pattern(40, 30, (x, y, c) => x * 13 + y * 7 + c * 101 + ((x * y) % 17));
const hex = (image: ByteImage): string => Buffer.from(image.data).toString('hex');
const sha = (image: ByteImage): string => createHash('sha256').update(image.data).digest('hex');

describe('resizeBicubic is PIL’s BICUBIC, byte for byte', () => {
  test.each(['13x9', '3x2', '7x11', '4x5', '10x3', '7x5'])('7×5 → %s', (size) => {
    const [w, h] = size.split('x').map(Number);
    const out = resizeBicubic(small, w, h);
    expect([out.width, out.height]).toEqual([w, h]);
    expect(hex(out)).toBe(PIL_REFERENCE[size]);
  });

  test('gray images, and RGB → L as PIL converts', () => {
    const gray = rgbToGray(small);
    expect(hex(gray)).toBe(PIL_REFERENCE.L);
    expect(hex(resizeBicubic(gray, 5, 8))).toBe(PIL_REFERENCE.L_5x8);
  });

  test('40×30 up to 57×71 and down to 9×6', () => {
    expect(sha(resizeBicubic(big, 57, 71))).toBe(PIL_REFERENCE.big_57x71_sha256);
    expect(sha(resizeBicubic(big, 9, 6))).toBe(PIL_REFERENCE.big_9x6_sha256);
  });

  test('rejects a size that is not a positive integer', () => {
    expect(() => resizeBicubic(small, 0, 3)).toThrow(/positive integers/);
  });
});
