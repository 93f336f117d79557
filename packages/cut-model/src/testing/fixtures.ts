// Test-only access to the official recordings in testdata/fixtures (PyTorch layout, NCHW).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { nchwToNhwc, rawToTensors, readSafetensors } from '@qsattn/core';

export const TESTDATA = join(dirname(fileURLToPath(import.meta.url)), '../../../../testdata');

export interface Fixture {
  tensors: tf.NamedTensorMap;
  metadata: Record<string, string>;
  /** Tensors under `prefix` with the prefix removed. */
  group(prefix: string): tf.NamedTensorMap;
  /** An NCHW image tensor as NHWC. */
  image(name: string): tf.Tensor4D;
  dispose(): void;
}

export function loadFixture(relativePath: string): Fixture {
  const path = join(TESTDATA, relativePath);
  const { tensors: raw, metadata } = readSafetensors(new Uint8Array(readFileSync(path)), path);
  const tensors = rawToTensors(raw, path);
  return {
    tensors,
    metadata,
    group(prefix) {
      return Object.fromEntries(
        Object.entries(tensors)
          .filter(([k]) => k.startsWith(prefix))
          .map(([k, v]) => [k.slice(prefix.length), v]),
      );
    },
    image(name) {
      const t = tensors[name];
      if (t == null) throw new Error(`${relativePath} has no tensor '${name}'`);
      return nchwToNhwc(t);
    },
    dispose() {
      tf.dispose(Object.values(tensors));
    },
  };
}
