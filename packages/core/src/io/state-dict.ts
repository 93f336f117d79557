// Loading a state dict from any weight file we read, and saving one as safetensors.
import type * as tf from '@tensorflow/tfjs-core';
import { ensureBackend } from '../backend/ensure-backend';
import { WeightFileError } from './errors';
import { isNode, readFileBytes, writeFileAtomic } from './node-files';
import { isZip, readPth } from './pth';
import { isLegacyPth } from './pth-legacy';
import type { RawTensorMap } from './raw-tensor';
import { readSafetensors, writeSafetensors, type SafetensorsMetadata } from './safetensors';
import { rawToTensors, tensorsToRaw } from './tensor-convert';

export const WEIGHT_FILE_FORMATS = ['pth', 'safetensors'] as const;
export type WeightFileFormat = (typeof WEIGHT_FILE_FORMATS)[number];

export interface LoadStateDictOptions {
  /** The file's format; by default it is recognised from its first bytes. */
  format?: WeightFileFormat | 'auto';
  /** Names the data in errors when `source` is bytes (a path or URL names itself). */
  name?: string;
}

/** The format of a weight file, from its first bytes, or undefined if it is none we read. */
export function detectWeightFormat(bytes: Uint8Array): WeightFileFormat | undefined {
  if (isZip(bytes) || isLegacyPth(bytes)) return 'pth';
  // safetensors: a u64 header length that fits the file, then a JSON object.
  if (bytes.length >= 9 && bytes[8] === 0x7b) {
    const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
    if (headerLength <= BigInt(bytes.length - 8)) return 'safetensors';
  }
  return undefined;
}

/** The file's bytes: a path read from disk in Node, a URL fetched otherwise (and for http(s) URLs in Node). */
async function readSource(source: string): Promise<Uint8Array> {
  if (isNode() && !/^https?:\/\//i.test(source)) return readFileBytes(source);
  let response: Response;
  try {
    response = await fetch(source);
  } catch (e) {
    throw new WeightFileError(source, `cannot be fetched (${(e as Error).message})`);
  }
  if (!response.ok)
    throw new WeightFileError(source, `cannot be fetched (HTTP ${response.status} ${response.statusText})`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Parses a weight file's bytes into raw tensors (stored dtypes, PyTorch layout). */
export function readWeightFile(
  bytes: Uint8Array,
  name: string,
  format: WeightFileFormat | 'auto' = 'auto',
): RawTensorMap {
  const resolved = format === 'auto' ? detectWeightFormat(bytes) : format;
  const formats = WEIGHT_FILE_FORMATS.join(', ');
  switch (resolved) {
    case 'pth':
      return readPth(bytes, name);
    case 'safetensors':
      return readSafetensors(bytes, name).tensors;
    case undefined:
      throw new WeightFileError(
        name,
        `is in no format we read; supported: ${formats} (PyTorch checkpoints, safetensors)`,
      );
    default:
      throw new WeightFileError(name, `cannot be read as '${String(resolved)}'; formats: auto, ${formats}`);
  }
}

/**
 * Loads a state dict (name → tensor) from a PyTorch checkpoint (`.pth`, `.pt`, `.ckpt`: zip or legacy
 * `torch.save` format) or a safetensors file. A string is a file path in Node and a URL in browsers (http(s)
 * URLs are fetched in Node too). Tensors keep PyTorch's layout (see layout.ts to convert them); float16,
 * bfloat16 and float64 become float32, int64 and narrower integers int32 (an int64 value beyond int32 is an
 * error naming the tensor), bool stays bool. Nested checkpoints give dotted names, as `readPth` describes.
 */
export async function loadStateDict(
  source: string | Uint8Array | ArrayBuffer,
  options: LoadStateDictOptions = {},
): Promise<tf.NamedTensorMap> {
  const name = typeof source === 'string' ? source : options.name ?? 'weight data';
  const bytes =
    typeof source === 'string'
      ? await readSource(source)
      : source instanceof Uint8Array
      ? source
      : new Uint8Array(source);
  const raw = readWeightFile(bytes, name, options.format);
  await ensureBackend();
  return rawToTensors(raw, name);
}

/**
 * Saves tensors (float32, int32 or bool) as a safetensors file, atomically: a crash while saving leaves the
 * previous file intact. Node only. Metadata values must be strings.
 */
export async function saveSafetensors(
  path: string,
  tensors: tf.NamedTensorMap,
  metadata: SafetensorsMetadata = {},
): Promise<void> {
  const bytes = writeSafetensors(await tensorsToRaw(tensors, path), metadata, path);
  await writeFileAtomic(path, bytes);
}
