// Image files in and out, through sharp (libvips): PNG, JPEG and WebP.
import { randomBytes } from 'node:crypto';
import { access, constants, readFile, rename, rm, writeFile } from 'node:fs/promises';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { DatasetError } from './errors';
import { rgbToGray, type ByteImage, type ChannelCount } from './image';

/** The file name endings read as images (case-insensitive). */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp'] as const;

export interface ImageHeader {
  width: number;
  height: number;
}

const SKIP_HINT = 'replace or delete it, or set skipBadImages to leave bad images out';

/** Why sharp could not read a file: the file system's reason if it has one, else the decoder's. */
async function readFailure(path: string, cause: unknown): Promise<DatasetError> {
  try {
    await access(path, constants.R_OK);
  } catch (fsError) {
    const reason = (fsError as NodeJS.ErrnoException).code ?? String(fsError);
    return new DatasetError('unreadable-image', path, `cannot read the file (${reason}); check that it exists and is readable, or ${SKIP_HINT}`);
  }
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new DatasetError('corrupt-image', path, `not a readable PNG, JPEG or WebP image (${reason}); ${SKIP_HINT}`);
}

/** The image's size, from its header only. */
export async function readImageHeader(path: string): Promise<ImageHeader> {
  let meta: Metadata;
  try {
    meta = await sharp(path).metadata();
  } catch (error) {
    throw await readFailure(path, error);
  }
  if (!meta.width || !meta.height) {
    throw new DatasetError('corrupt-image', path, `the header gives no image size; ${SKIP_HINT}`);
  }
  return { width: meta.width, height: meta.height };
}

/**
 * Decodes an image file as PIL's `Image.open(path).convert('RGB')` does: grayscale is repeated into three
 * channels, alpha is dropped (not composited), palettes are expanded. With `channels` 1 the RGB result is then
 * converted to gray as `transforms.Grayscale(1)` does. EXIF orientation is not applied (PIL does not either).
 */
export async function decodeImageFile(path: string, channels: ChannelCount = 3): Promise<ByteImage> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw await readFailure(path, error);
  }
  return decodeImage(bytes, path, channels);
}

/**
 * Decodes an image file's bytes as `decodeImageFile` does (`name` is the file the bytes came from, for errors):
 * for images that arrive other than from a file, such as through a job queue.
 */
export async function decodeImage(bytes: Uint8Array, name: string, channels: ChannelCount = 3): Promise<ByteImage> {
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await sharp(bytes).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DatasetError('corrupt-image', name, `not a readable PNG, JPEG or WebP image (${reason}); ${SKIP_HINT}`);
  }
  const { data, info } = decoded;
  if (info.channels !== 3) {
    throw new DatasetError('corrupt-image', name, `decoded to ${info.channels} channels instead of RGB; ${SKIP_HINT}`);
  }
  const rgb: ByteImage = {
    width: info.width,
    height: info.height,
    channels: 3,
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
  return channels === 1 ? rgbToGray(rgb) : rgb;
}

/** Encodes an 8-bit image as PNG bytes (gray images as 1-channel PNGs). */
export async function encodePng(image: ByteImage): Promise<Buffer> {
  const { width, height, channels } = image;
  const pipeline = sharp(image.data, { raw: { width, height, channels } });
  return (channels === 1 ? pipeline.toColourspace('b-w') : pipeline).png().toBuffer();
}

/** Writes an 8-bit image as a PNG file; a failed write leaves no partial file. */
export async function writePng(path: string, image: ByteImage): Promise<void> {
  const bytes = await encodePng(image);
  await writeFileAtomic(path, bytes);
}

/** Writes through a temporary file renamed into place, so that readers never see a partial file. */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new DatasetError('write-failed', path, `could not write the file (${reason}); check the folder exists and is writable`);
  }
}
