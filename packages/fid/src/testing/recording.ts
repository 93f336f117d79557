// Reading the recordings of testdata/fid (record.py): images, pytorch-fid's features and results.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensors } from '@qsattn/core';
import type { FidDims } from '../inception';

export const TESTDATA = fileURLToPath(new URL('../../../../testdata/fid/', import.meta.url));

export interface RecordedResult {
  fid?: number;
  error?: string;
  kid: { mean: number; std: number };
  kid_float64: { mean: number; std: number };
}

export interface Recording {
  name: string;
  weightSeed: number;
  kidSubsets: number;
  kidSubsetSize: number;
  kidSeed: number;
  results: Partial<Record<FidDims, RecordedResult>>;
  /** `a_64`, `b_2048`, …: [N, dims] float32 rows. */
  features: Map<string, { values: Float32Array; rows: number }>;
  images: { a: string[]; b: string[] };
}

export function readRecording(name: string): Recording {
  const dir = join(TESTDATA, name);
  const json = JSON.parse(readFileSync(join(dir, 'record.json'), 'utf8'));
  const { tensors } = readSafetensors(new Uint8Array(readFileSync(join(dir, 'features.safetensors'))), name);
  const features = new Map<string, { values: Float32Array; rows: number }>();
  for (const [key, t] of Object.entries(tensors)) features.set(key, { values: t.data as Float32Array, rows: t.shape[0] });
  const list = (side: string) => readdirSync(join(dir, side)).filter((f) => f.endsWith('.png')).sort().map((f) => join(dir, side, f));
  return {
    name,
    weightSeed: json.weight_seed,
    kidSubsets: json.kid_subsets,
    kidSubsetSize: json.kid_subset_size,
    kidSeed: json.kid_seed,
    results: json.results,
    features,
    images: { a: list('a'), b: list('b') },
  };
}
