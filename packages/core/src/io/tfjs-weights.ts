// The TensorFlow.js weights format: a JSON manifest (the `weightsManifest` of a model.json) naming each
// tensor's dtype and shape, and binary shards holding their data back to back.
import * as tf from '@tensorflow/tfjs-core';
import { ensureBackend } from '../backend/ensure-backend';
import { crc32 } from './crc32';
import { WeightFileError } from './errors';
import { nodeFs, nodePath, readFileBytes, writeFileAtomic } from './node-files';

/** The manifest file `saveTfjsWeights` writes in its directory. */
export const TFJS_WEIGHTS_MANIFEST = 'weights.json';

export interface TfjsWeightsJson {
  weightsManifest: tf.io.WeightsManifestConfig;
}

export interface TfjsWeightFiles {
  manifest: TfjsWeightsJson;
  /** Shard contents by the paths the manifest gives them. */
  shards: Record<string, Uint8Array>;
}

/** Bytes per stored element, by dtype or, for quantized weights, by quantization dtype. */
const STORED_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/**
 * Encodes tensors (float32, int32 or bool) as a manifest and one shard. The shard is named after its CRC-32
 * (`weights-<crc>.bin`), so that a new save does not overwrite the shard an older manifest still points to
 * (unless the content is the same, or in the 1 in 2^32 case of a CRC collision).
 */
export async function encodeTfjsWeights(tensors: tf.NamedTensorMap): Promise<TfjsWeightFiles> {
  const { data, specs } = await tf.io.encodeWeights(tensors);
  const bytes = new Uint8Array(data);
  const path = `weights-${crc32(bytes).toString(16).padStart(8, '0')}.bin`;
  return { manifest: { weightsManifest: [{ paths: [path], weights: specs }] }, shards: { [path]: bytes } };
}

/** Decodes a manifest and its shards into tensors. `source` names them in errors. */
export function decodeTfjsWeights(files: TfjsWeightFiles, source = 'tfjs weights'): tf.NamedTensorMap {
  const groups = checkManifest(files.manifest?.weightsManifest, source);
  const specs = groups.flatMap((group) => group.weights);
  const shards = groups.flatMap((group) =>
    group.paths.map((path) => {
      const shard = Object.hasOwn(files.shards, path) ? files.shards[path] : undefined;
      if (shard === undefined) throw new WeightFileError(source, `lists the shard '${path}', which is missing`);
      return shard;
    }),
  );
  const data = new Uint8Array(shards.reduce((n, s) => n + s.length, 0));
  let offset = 0;
  for (const shard of shards) {
    data.set(shard, offset);
    offset += shard.length;
  }
  let needed = 0;
  for (const spec of specs) {
    const stored = spec.quantization?.dtype ?? spec.dtype;
    const itemSize = Object.hasOwn(STORED_BYTES, stored) ? STORED_BYTES[stored] : undefined;
    if (itemSize === undefined) {
      throw new WeightFileError(
        source,
        `has dtype ${spec.dtype}; readable: float32, int32, bool (quantized: uint8, uint16, float16)`,
        spec.name,
      );
    }
    needed += spec.shape.reduce((n, d) => n * d, 1) * itemSize;
    if (needed > data.length) {
      throw new WeightFileError(
        source,
        `ends past the ${data.length} bytes of the shards (shard truncated?)`,
        spec.name,
      );
    }
  }
  try {
    return tf.io.decodeWeights(data.buffer, specs);
  } catch (e) {
    throw new WeightFileError(source, `cannot be decoded (${(e as Error).message.split('\n')[0]})`);
  }
}

const isDimension = (d: unknown): boolean => Number.isSafeInteger(d) && (d as number) >= 0;

/**
 * Checks the manifest's structure before anything trusts it: a list of groups, each with shard `paths` and
 * `weights` specs having a unique name, a shape of integers >= 0, and quantization parameters where needed.
 */
function checkManifest(groups: unknown, source: string): tf.io.WeightsManifestConfig {
  if (!Array.isArray(groups)) throw new WeightFileError(source, 'has no weightsManifest list');
  const names = new Set<string>();
  groups.forEach((group: Partial<tf.io.WeightsManifestConfig[number]> | null, g) => {
    const where = `weightsManifest[${g}]`;
    if (group === null || typeof group !== 'object') throw new WeightFileError(source, `has ${where} that is not an object`);
    if (!Array.isArray(group.paths) || !group.paths.every((p: unknown) => typeof p === 'string')) {
      throw new WeightFileError(source, `has ${where}.paths that is not a list of file names`);
    }
    if (!Array.isArray(group.weights)) throw new WeightFileError(source, `has ${where}.weights that is not a list`);
    for (const spec of group.weights as unknown[]) {
      const { name, shape, quantization } = (spec ?? {}) as Partial<tf.io.WeightsManifestEntry>;
      if (typeof name !== 'string') throw new WeightFileError(source, `has a weight in ${where} without a name`);
      if (name === '__proto__') throw new WeightFileError(source, "has a weight named '__proto__', which is not allowed");
      if (names.has(name)) throw new WeightFileError(source, 'is listed twice', name);
      names.add(name);
      if (!Array.isArray(shape) || !shape.every(isDimension)) {
        throw new WeightFileError(source, `has shape ${JSON.stringify(shape)}; expected a list of integers >= 0`, name);
      }
      if (quantization !== undefined) {
        const { dtype, scale, min } = (quantization ?? {}) as Partial<NonNullable<tf.io.WeightsManifestEntry['quantization']>>;
        const linear = dtype === 'uint8' || dtype === 'uint16';
        if (!(linear || dtype === 'float16') || (linear && !(Number.isFinite(scale) && Number.isFinite(min)))) {
          throw new WeightFileError(
            source,
            `has quantization ${JSON.stringify(quantization)}; expected uint8 or uint16 with a finite scale and min, or float16`,
            name,
          );
        }
      }
    }
  });
  return groups as tf.io.WeightsManifestConfig;
}

/**
 * Saves tensors in `dir` as `weights.json` and one shard, creating `dir` if needed. The shard is written
 * first and the manifest then replaced atomically, so that a crash leaves the previous manifest pointing
 * to its own complete shard; shards no manifest refers to any more are removed afterwards. Node only.
 */
export async function saveTfjsWeights(dir: string, tensors: tf.NamedTensorMap): Promise<void> {
  const fs = await nodeFs();
  const { join } = await nodePath();
  const files = await encodeTfjsWeights(tensors);
  await fs.mkdir(dir, { recursive: true });
  const manifestPath = join(dir, TFJS_WEIGHTS_MANIFEST);
  const previous = await previousShards(manifestPath);
  for (const [path, bytes] of Object.entries(files.shards)) await writeFileAtomic(join(dir, path), bytes);
  await writeFileAtomic(manifestPath, new TextEncoder().encode(`${JSON.stringify(files.manifest, null, 2)}\n`));
  for (const path of previous) {
    if (!(path in files.shards)) await fs.rm(join(dir, path), { force: true });
  }
}

async function previousShards(manifestPath: string): Promise<string[]> {
  const fs = await nodeFs();
  let text: string;
  try {
    text = await fs.readFile(manifestPath, 'utf8');
  } catch {
    return []; // nothing saved there yet
  }
  try {
    const manifest = JSON.parse(text) as TfjsWeightsJson;
    // Only plain file names: a hand-edited manifest must not make a save delete files elsewhere.
    return manifest.weightsManifest.flatMap((group) => group.paths).filter((path) => !/[\\/]/.test(path));
  } catch {
    return [];
  }
}

/** Loads the tensors `saveTfjsWeights` saved in `dir` (or any weights-only manifest there). Node only. */
export async function loadTfjsWeights(dir: string): Promise<tf.NamedTensorMap> {
  const { isAbsolute, join } = await nodePath();
  const manifestPath = join(dir, TFJS_WEIGHTS_MANIFEST);
  let manifest: TfjsWeightsJson;
  try {
    manifest = JSON.parse(new TextDecoder().decode(await readFileBytes(manifestPath))) as TfjsWeightsJson;
  } catch (e) {
    if (e instanceof WeightFileError) throw e;
    throw new WeightFileError(manifestPath, `is not valid JSON (${(e as Error).message})`);
  }
  const groups = checkManifest(manifest?.weightsManifest, manifestPath);
  const shards: Record<string, Uint8Array> = {};
  for (const path of groups.flatMap((group) => group.paths)) {
    // Shards lie in the manifest's folder (or below it): a manifest must not make us read files elsewhere.
    if (isAbsolute(path) || path.split(/[\\/]/).includes('..')) {
      throw new WeightFileError(manifestPath, `lists the shard '${path}', outside its folder`);
    }
    shards[path] = await readFileBytes(join(dir, path));
  }
  await ensureBackend();
  return decodeTfjsWeights({ manifest, shards }, manifestPath);
}
