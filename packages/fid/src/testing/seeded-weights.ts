// Deterministic stand-in weights for the FID Inception, generated identically here and by
// testdata/fid/record.py (numpy), so that tests need neither the real 95 MB file nor PyTorch.
//
// Element i (flat, PyTorch row-major) of the k-th tensor of inceptionTensorShapes() order gets
//   h = lowbias32((i + 0x9E3779B9·(k+1) + 0x85EBCA6B·seed) mod 2³²),  u = (h >>> 8) / 2²⁴  ∈ [0, 1)
// and, computed in float64 and rounded once to float32:
//   conv.weight  (2u−1)·√(6 / fan_in)      bn.weight, bn.running_var  0.5 + u
//   bn.bias, bn.running_mean  (2u−1)·0.1   fc.weight  (2u−1)·√(1/2048)   fc.bias  (2u−1)·0.01
import * as tf from '@tensorflow/tfjs-core';
import { inceptionTensorShapes } from '../inception-layout';

function lowbias32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

function valueOf(name: string, shape: number[]): (u: number) => number {
  if (name.endsWith('conv.weight')) {
    const bound = Math.sqrt(6 / (shape[1] * shape[2] * shape[3]));
    return (u) => (2 * u - 1) * bound;
  }
  if (name.endsWith('bn.weight') || name.endsWith('bn.running_var')) return (u) => 0.5 + u;
  if (name.endsWith('bn.bias') || name.endsWith('bn.running_mean')) return (u) => (2 * u - 1) * 0.1;
  if (name === 'fc.weight') {
    const bound = Math.sqrt(1 / 2048);
    return (u) => (2 * u - 1) * bound;
  }
  return (u) => (2 * u - 1) * 0.01;
}

/** The seeded weights as float32 arrays, name → [values, shape]. */
export function seededInceptionArrays(seed: number): Map<string, { values: Float32Array; shape: number[] }> {
  const out = new Map<string, { values: Float32Array; shape: number[] }>();
  let k = 0;
  for (const [name, shape] of inceptionTensorShapes()) {
    k++;
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    const f = valueOf(name, shape);
    const base = (Math.imul(0x9e3779b9, k) + Math.imul(0x85ebca6b, seed)) >>> 0;
    for (let i = 0; i < size; i++) values[i] = f((lowbias32((i + base) >>> 0) >>> 8) / 16777216);
    out.set(name, { values, shape });
  }
  return out;
}

/** The seeded weights as a state dict (PyTorch layout), ready for FidInceptionV3.fromStateDict. */
export function seededInceptionStateDict(seed: number): tf.NamedTensorMap {
  const weights: tf.NamedTensorMap = {};
  for (const [name, { values, shape }] of seededInceptionArrays(seed)) weights[name] = tf.tensor(values, shape);
  return weights;
}
