/**
 * The two in-memory image forms of this package, both row-major HWC:
 * - `ByteImage`: 8-bit values 0–255, what image files hold;
 * - `FloatImage`: float32 values in [−1, 1], what the networks take (tfjs NHWC without the batch axis).
 */
export type ChannelCount = 1 | 3;

export interface ByteImage {
  width: number;
  height: number;
  channels: ChannelCount;
  data: Uint8Array;
}

export interface FloatImage {
  width: number;
  height: number;
  channels: ChannelCount;
  data: Float32Array;
}

/**
 * torchvision's `ToTensor()` then `Normalize(0.5, 0.5)` for each byte value, in float32 as torch computes it:
 * fround(fround(v / 255) − 0.5) / 0.5.
 */
const BYTE_TO_FLOAT = (() => {
  const table = new Float32Array(256);
  for (let v = 0; v < 256; v++) table[v] = Math.fround(Math.fround(v / 255) - 0.5) / 0.5;
  return table;
})();

/** Scales an 8-bit image to [−1, 1] exactly as the official transform does. */
export function toFloatImage(image: ByteImage): FloatImage {
  const data = new Float32Array(image.data.length);
  for (let i = 0; i < data.length; i++) data[i] = BYTE_TO_FLOAT[image.data[i]];
  return { width: image.width, height: image.height, channels: image.channels, data };
}

/**
 * The official `tensor2im`: clamp to [−1, 1], then (x + 1) / 2 · 255 in float32, truncated to 8 bits.
 */
export function toByteImage(image: FloatImage): ByteImage {
  const data = new Uint8Array(image.data.length);
  for (let i = 0; i < data.length; i++) {
    const x = Math.min(1, Math.max(-1, image.data[i]));
    data[i] = Math.trunc(Math.fround(Math.fround(Math.fround(x + 1) / 2) * 255));
  }
  return { width: image.width, height: image.height, channels: image.channels, data };
}

/** PIL's RGB → L conversion (ITU-R 601-2 luma in 16-bit fixed point, rounded), used by `Grayscale(1)`. */
export function rgbToGray(image: ByteImage): ByteImage {
  if (image.channels === 1) return image;
  const n = image.width * image.height;
  const data = new Uint8Array(n);
  const src = image.data;
  for (let i = 0; i < n; i++) {
    data[i] = (src[3 * i] * 19595 + src[3 * i + 1] * 38470 + src[3 * i + 2] * 7471 + 0x8000) >>> 16;
  }
  return { width: image.width, height: image.height, channels: 1, data };
}

/** The pixels inside the rectangle [x, x + width) × [y, y + height), which must lie inside the image. */
export function cropImage(image: ByteImage, x: number, y: number, width: number, height: number): ByteImage {
  const c = image.channels;
  const data = new Uint8Array(width * height * c);
  for (let row = 0; row < height; row++) {
    const from = ((y + row) * image.width + x) * c;
    data.set(image.data.subarray(from, from + width * c), row * width * c);
  }
  return { width, height, channels: c, data };
}

/** The image mirrored left–right. */
export function flipHorizontal(image: ByteImage): ByteImage {
  const { width, height, channels: c } = image;
  const data = new Uint8Array(image.data.length);
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      const from = (row * width + col) * c;
      const to = (row * width + (width - 1 - col)) * c;
      for (let k = 0; k < c; k++) data[to + k] = image.data[from + k];
    }
  }
  return { width, height, channels: c, data };
}
