// Test-only access to the official QS-Attn recordings (testdata/fixtures/qs_<mode>_64.safetensors, NCHW).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
// core's io/ is still being finished; until its index exports these, tests import them from their files.
import { nchwToNhwc, nhwcToNchw } from '../../../core/src/io/layout';
import { readSafetensors } from '../../../core/src/io/safetensors';
import type { RawTensor } from '../../../core/src/io/raw-tensor';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../../../testdata/fixtures');

export interface QsFixture {
  metadata: Record<string, string>;
  names: string[];
  raw(name: string): RawTensor;
  /** float32 values of a recorded tensor. */
  values(name: string): Float32Array;
  /** int32 values of a recorded id tensor. */
  ids(name: string): Int32Array;
  /** A recorded NCHW feature map as an NHWC tensor. */
  featureNhwc(name: string): tf.Tensor4D;
  /** The recorded tensors under `prefix`, prefix removed, as tfjs tensors in torch layout. */
  group(prefix: string): tf.NamedTensorMap;
}

export function loadQsFixture(mode: string): QsFixture {
  const path = join(FIXTURES, `qs_${mode}_64.safetensors`);
  const { tensors, metadata } = readSafetensors(new Uint8Array(readFileSync(path)), path);
  const raw = (name: string): RawTensor => {
    const t = tensors[name];
    if (t == null) throw new Error(`${path} has no tensor '${name}'`);
    return t;
  };
  return {
    metadata,
    names: Object.keys(tensors),
    raw,
    values: (name) => raw(name).data as Float32Array,
    ids: (name) => raw(name).data as Int32Array,
    featureNhwc: (name) =>
      tf.tidy(() => nchwToNhwc(tf.tensor(raw(name).data as Float32Array, raw(name).shape, 'float32'))),
    group: (prefix) =>
      Object.fromEntries(
        Object.keys(tensors)
          .filter((name) => name.startsWith(prefix))
          .map((name) => [name.slice(prefix.length), tf.tensor(raw(name).data as Float32Array, raw(name).shape, 'float32')]),
      ),
  };
}

export { nhwcToNchw };

/** Largest absolute and relative (to |expected|) element differences. */
export interface Deviation {
  maxAbs: number;
  maxRel: number;
  /** Largest |difference| / (largest |expected|): the gradient measure. */
  maxOfScale: number;
}

export function deviation(actual: ArrayLike<number>, expected: ArrayLike<number>): Deviation {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} ≠ ${expected.length}`);
  let maxAbs = 0;
  let maxRel = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= maxAbs)) maxAbs = d;
    if (expected[i] !== 0 || d !== 0) {
      const r = d / Math.abs(expected[i]);
      if (!(r <= maxRel)) maxRel = r;
    }
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return { maxAbs, maxRel, maxOfScale: scale === 0 ? maxAbs : maxAbs / scale };
}

/** SPEC's forward tolerance: every element within 1e-5 + 1e-4·|expected|. */
export function forwardWithin(actual: ArrayLike<number>, expected: ArrayLike<number>): boolean {
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= 1e-5 + 1e-4 * Math.abs(expected[i]))) return false;
  }
  return actual.length === expected.length;
}
