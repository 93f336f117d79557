// The official per-image transform (data/base_dataset.py get_transform), split into a plan drawn from the Rng
// (so that every random choice is made in a known order, before any decoding) and its application.
import type { Rng } from '@qsattn/core';
import { DatasetError } from './errors';
import { cropImage, flipHorizontal, type ByteImage } from './image';
import { resizeBicubic } from './pil-resize';

export const PREPROCESS_MODES = ['resize_and_crop', 'crop', 'scale_width', 'scale_width_and_crop', 'none'] as const;
/**
 * - `resize_and_crop`: bicubic resize to loadSize × loadSize, then a random cropSize × cropSize crop;
 * - `crop`: a random crop of the image as it is;
 * - `scale_width`: bicubic resize to width loadSize (height keeps the aspect, at least cropSize);
 * - `scale_width_and_crop`: `scale_width`, then a random crop;
 * - `none`: the image as it is.
 * Every mode then resizes to a multiple of 4 (when needed) and flips at random unless `flip` is false.
 */
export type PreprocessMode = (typeof PREPROCESS_MODES)[number];

export interface PreprocessOptions {
  preprocess: PreprocessMode;
  loadSize: number;
  cropSize: number;
  /** Random horizontal flip (the official `--no_flip` turns it off). */
  flip: boolean;
}

export interface Size {
  width: number;
  height: number;
}

/** The steps one image goes through, with their random choices made. */
export interface TransformPlan {
  /** The bicubic resize, when the mode has one and it changes the size. */
  resize: Size | null;
  /** The crop's top-left corner and side, when the mode crops. */
  crop: { x: number; y: number; size: number } | null;
  /** The bicubic resize to a multiple of 4, when the size is not one already. */
  multipleOf4: Size | null;
  flip: boolean;
  /** The size of the result. */
  output: Size;
}

/** Throws a 'bad-option' error unless the options are usable. */
export function checkPreprocessOptions(options: PreprocessOptions): void {
  const { preprocess, loadSize, cropSize } = options;
  if (!(PREPROCESS_MODES as readonly string[]).includes(preprocess)) {
    throw new DatasetError('bad-option', 'preprocess', `unknown mode '${preprocess}'; use one of ${PREPROCESS_MODES.join(', ')}`);
  }
  for (const [name, value] of [['loadSize', loadSize], ['cropSize', cropSize]] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new DatasetError('bad-option', name, `must be a positive integer, got ${value}`);
    }
  }
  if ((preprocess === 'resize_and_crop' || preprocess === 'scale_width_and_crop') && loadSize < cropSize) {
    throw new DatasetError('bad-option', 'loadSize', `${loadSize} is smaller than cropSize ${cropSize}, so '${preprocess}' cannot crop; make loadSize ≥ cropSize`);
  }
}

/** Python's round() (halves to even), which `__make_power_2` uses. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The size after the mode's resize step, for a source of the given size. */
export function resizedSize(source: Size, options: PreprocessOptions): Size {
  const { preprocess, loadSize, cropSize } = options;
  if (preprocess === 'resize_and_crop') return { width: loadSize, height: loadSize };
  if (preprocess === 'scale_width' || preprocess === 'scale_width_and_crop') {
    // __scale_width
    if (source.width === loadSize && source.height >= cropSize) return source;
    return { width: loadSize, height: Math.trunc(Math.max((loadSize * source.height) / source.width, cropSize)) };
  }
  return source;
}

/** Whether the mode crops. */
export function modeCrops(mode: PreprocessMode): boolean {
  return mode === 'resize_and_crop' || mode === 'crop' || mode === 'scale_width_and_crop';
}

/**
 * Draws the random choices for one image of the given size, in the official order: the crop's row, then its
 * column (torchvision RandomCrop, no draw when the image is exactly the crop size), then the flip
 * (RandomHorizontalFlip: flip when a uniform draw is below 0.5). `name` is used in the error for an image
 * smaller than the crop.
 */
export function planTransform(source: Size, options: PreprocessOptions, rng: Rng, name: string): TransformPlan {
  const resized = resizedSize(source, options);
  let size = resized;
  let crop: TransformPlan['crop'] = null;
  if (modeCrops(options.preprocess)) {
    const side = options.cropSize;
    if (size.width < side || size.height < side) {
      throw new DatasetError(
        'image-too-small',
        name,
        `${size.width}×${size.height} is smaller than cropSize ${side}; lower cropSize or use preprocess 'resize_and_crop'`,
      );
    }
    let x = 0;
    let y = 0;
    if (size.width !== side || size.height !== side) {
      y = rng.int(size.height - side + 1);
      x = rng.int(size.width - side + 1);
    }
    crop = { x, y, size: side };
    size = { width: side, height: side };
  }
  const rounded = { width: roundHalfEven(size.width / 4) * 4, height: roundHalfEven(size.height / 4) * 4 };
  const multipleOf4 = rounded.width !== size.width || rounded.height !== size.height ? rounded : null;
  const flip = options.flip ? rng.uniform() < 0.5 : false;
  const changed = resized.width !== source.width || resized.height !== source.height;
  return { resize: changed ? resized : null, crop, multipleOf4, flip, output: multipleOf4 ?? size };
}

/** Applies a plan to the decoded image (of the size the plan was drawn for). */
export function applyTransform(image: ByteImage, plan: TransformPlan): ByteImage {
  let out = image;
  if (plan.resize) out = resizeBicubic(out, plan.resize.width, plan.resize.height);
  if (plan.crop) out = cropImage(out, plan.crop.x, plan.crop.y, plan.crop.size, plan.crop.size);
  if (plan.multipleOf4) out = resizeBicubic(out, plan.multipleOf4.width, plan.multipleOf4.height);
  if (plan.flip) out = flipHorizontal(out);
  return out;
}
