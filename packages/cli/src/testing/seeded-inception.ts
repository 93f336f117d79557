// Test-only: the seeded stand-in FID Inception weights of @qsattn/fid's tests, written as a safetensors file.
import * as tf from '@tensorflow/tfjs-core';
import { saveSafetensors } from '@qsattn/core';
import { seededInceptionStateDict } from '../../../fid/src/testing/seeded-weights';

export async function writeSeededInception(path: string, seed: number): Promise<string> {
  const state = seededInceptionStateDict(seed);
  try {
    await saveSafetensors(path, state);
  } finally {
    tf.dispose(state);
  }
  return path;
}
