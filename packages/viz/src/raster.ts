// Small pure-JavaScript image operations for the maps (Node and browsers alike): colour maps from Vega's
// schemes, nearest-neighbour scaling, blending and cell outlines. Images are row-major HWC bytes, the same
// shape as @qsattn/data's ByteImage.
import * as tf from '@tensorflow/tfjs-core';
import * as vega from 'vega';

export interface Raster {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

export type Rgb = readonly [number, number, number];

/** A raster with every pixel `color`. */
export function filledRaster(width: number, height: number, color: Rgb): Raster {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(color, 3 * i);
  return { width, height, channels: 3, data };
}

/** Gray images as RGB; RGB images unchanged. */
export function toRgb(image: Raster): Raster {
  if (image.channels === 3) return image;
  const data = new Uint8Array(image.width * image.height * 3);
  for (let i = 0; i < image.width * image.height; i++) data.fill(image.data[i], 3 * i, 3 * i + 3);
  return { width: image.width, height: image.height, channels: 3, data };
}

/**
 * The first image of an NHWC (or HWC) tensor in [−1, 1] as bytes, as the official `tensor2im` does
 * ((x + 1) / 2 · 255, truncated).
 */
export async function tensorToRaster(image: tf.Tensor3D | tf.Tensor4D): Promise<Raster> {
  const shape = image.rank === 4 ? image.shape.slice(1) : image.shape;
  const [height, width, channels] = shape as [number, number, number];
  if (channels !== 1 && channels !== 3) throw new Error(`expected 1 or 3 channels, got ${channels}`);
  const values = (await image.data()).subarray(0, height * width * channels);
  const data = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = Math.trunc(((Math.min(1, Math.max(-1, values[i])) + 1) / 2) * 255);
  return { width, height, channels, data };
}

/** `rgb(r, g, b)` or `#rrggbb`, the two forms Vega's interpolators return. */
function parseColor(text: string): Rgb {
  const rgb = /^rgb\((\d+),\s*(\d+),\s*(\d+)\)$/.exec(text);
  if (rgb !== null) return [Number(rgb[1]), Number(rgb[2]), Number(rgb[3])];
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(text);
  if (hex !== null) return [parseInt(hex[1], 16), parseInt(hex[2], 16), parseInt(hex[3], 16)];
  throw new Error(`cannot read the colour ${text}`);
}

const schemeCache = new Map<string, Uint8Array>();

/** 256 colours of a Vega colour scheme (`viridis`, `magma`, `inferno`, …) as RGB bytes. */
export function schemeColors(name: string): Uint8Array {
  let table = schemeCache.get(name);
  if (table !== undefined) return table;
  const scheme = vega.scheme(name) as ((t: number) => string) | string[] | undefined;
  if (typeof scheme !== 'function') throw new Error(`unknown continuous colour scheme '${name}' (try viridis, magma, inferno, plasma)`);
  table = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) table.set(parseColor(scheme(i / 255)), 3 * i);
  schemeCache.set(name, table);
  return table;
}

/**
 * A `width × height` map of values as colours: `lo` maps to the scheme's first colour, `hi` to its last
 * (default: the values' own range). NaN cells get `nanColor`.
 */
export function colorize(
  values: ArrayLike<number>,
  width: number,
  height: number,
  { scheme = 'viridis', lo, hi, nanColor = [128, 128, 128] }: { scheme?: string; lo?: number; hi?: number; nanColor?: Rgb } = {},
): Raster {
  if (values.length !== width * height) throw new Error(`colorize: ${values.length} values do not fill ${width}×${height}`);
  const table = schemeColors(scheme);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) ((min = Math.min(min, values[i])), (max = Math.max(max, values[i])));
  const a = lo ?? min;
  const b = hi ?? max;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      data.set(nanColor, 3 * i);
      continue;
    }
    const t = b > a ? Math.min(1, Math.max(0, (v - a) / (b - a))) : 0;
    const k = Math.round(t * 255) * 3;
    data[3 * i] = table[k];
    data[3 * i + 1] = table[k + 1];
    data[3 * i + 2] = table[k + 2];
  }
  return { width, height, channels: 3, data };
}

/** Nearest-neighbour scaling (keeps cells sharp: a map's cells stay visible as blocks). */
export function resizeNearest(image: Raster, width: number, height: number): Raster {
  const c = image.channels;
  const data = new Uint8Array(width * height * c);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(image.height - 1, Math.floor((y * image.height) / height));
    for (let x = 0; x < width; x++) {
      const sx = Math.min(image.width - 1, Math.floor((x * image.width) / width));
      const from = (sy * image.width + sx) * c;
      data.set(image.data.subarray(from, from + c), (y * width + x) * c);
    }
  }
  return { width, height, channels: c, data };
}

/** `base · (1 − alpha) + top · alpha`, both RGB of one size; `alpha` per pixel (0–1) or one number. */
export function blend(base: Raster, top: Raster, alpha: number | ArrayLike<number>): Raster {
  const a = toRgb(base);
  const b = toRgb(top);
  if (a.width !== b.width || a.height !== b.height) throw new Error(`blend: ${a.width}×${a.height} and ${b.width}×${b.height} differ`);
  const data = new Uint8Array(a.data.length);
  for (let i = 0; i < a.width * a.height; i++) {
    const t = typeof alpha === 'number' ? alpha : alpha[i];
    for (let ch = 0; ch < 3; ch++) data[3 * i + ch] = Math.round(a.data[3 * i + ch] * (1 - t) + b.data[3 * i + ch] * t);
  }
  return { width: a.width, height: a.height, channels: 3, data };
}

/** Gray version of an image, kept as RGB, with its contrast scaled by `contrast` around mid-gray (for backdrops). */
export function grayBackdrop(image: Raster, contrast = 1): Raster {
  const rgb = toRgb(image);
  const data = new Uint8Array(rgb.data.length);
  for (let i = 0; i < rgb.width * rgb.height; i++) {
    const y = 0.299 * rgb.data[3 * i] + 0.587 * rgb.data[3 * i + 1] + 0.114 * rgb.data[3 * i + 2];
    data.fill(Math.round(128 + (y - 128) * contrast), 3 * i, 3 * i + 3);
  }
  return { width: rgb.width, height: rgb.height, channels: 3, data };
}

/**
 * Outlines cells of a `gridWidth × gridHeight` grid laid over the image: for each cell id (row-major), the
 * border pixels just inside the cell are set to `color`. Only pixels of the listed cells change.
 */
export function outlineCells(image: Raster, cells: ArrayLike<number>, gridWidth: number, gridHeight: number, color: Rgb, thickness = 1): Raster {
  const out = toRgb(image);
  const data = out === image ? new Uint8Array(image.data) : out.data;
  const { width, height } = out;
  for (let i = 0; i < cells.length; i++) {
    const id = cells[i];
    const row = Math.floor(id / gridWidth);
    const col = id - row * gridWidth;
    if (row < 0 || row >= gridHeight) throw new RangeError(`outlineCells: cell ${id} is outside the ${gridWidth}×${gridHeight} grid`);
    const x0 = Math.floor((col * width) / gridWidth);
    const x1 = Math.floor(((col + 1) * width) / gridWidth) - 1;
    const y0 = Math.floor((row * height) / gridHeight);
    const y1 = Math.floor(((row + 1) * height) / gridHeight) - 1;
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const edge = y - y0 < thickness || y1 - y < thickness || x - x0 < thickness || x1 - x < thickness;
        if (edge) data.set(color, 3 * (y * width + x));
      }
    }
  }
  return { width, height, channels: 3, data };
}
