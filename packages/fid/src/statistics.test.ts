import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { featureStatistics, frechetDistance, frechetDistanceOfFeatures } from './frechet';
import { FID_DIMS } from './inception';
import { kernelInceptionDistance } from './kid';
import { readNpz, writeNpz } from './npz';
import { TESTDATA, readRecording } from './testing/recording';

// FID and KID from pytorch-fid's own features of each recording: the statistics alone, against pytorch-fid's
// calculate_frechet_distance and torch-fidelity's kid_features_to_metric on the same numbers.
describe.each(['seed1', 'seed7', 'many64'])('FID and KID from the features recorded in %s', (name) => {
  const rec = readRecording(name);
  for (const dims of FID_DIMS) {
    const expected = rec.results[dims];
    if (expected === undefined) continue;
    it(`dims ${dims}`, () => {
      const a = rec.features.get(`a_${dims}`)!;
      const b = rec.features.get(`b_${dims}`)!;
      if (expected.error !== undefined) {
        expect(() => frechetDistanceOfFeatures(a.values, a.rows, b.values, b.rows, dims)).toThrow(/^Imaginary component/);
      } else {
        const { fid, method } = frechetDistanceOfFeatures(a.values, a.rows, b.values, b.rows, dims);
        // More samples than dims: the statistics are well conditioned and we agree to float64 rounding. With
        // fewer, the product is singular and pytorch-fid's trace holds roots of its rounding-level eigenvalues
        // (~1e-8 each), so the routes differ by a few 1e-6 (low-rank at 768 and 2048) or less (sqrtm).
        const wellConditioned = a.rows > dims && b.rows > dims;
        expect(method).toBe(dims <= 512 ? 'sqrtm' : 'low-rank');
        expect(Math.abs(fid - expected.fid!) / Math.abs(expected.fid!)).toBeLessThan(wellConditioned ? 1e-9 : 1e-5);
      }
      const kid = kernelInceptionDistance(a.values, a.rows, b.values, b.rows, dims, {
        subsets: rec.kidSubsets,
        subsetSize: rec.kidSubsetSize,
        seed: rec.kidSeed,
      });
      const scale = Math.max(Math.abs(expected.kid_float64.mean), expected.kid_float64.std);
      expect(Math.abs(kid.mean - expected.kid_float64.mean)).toBeLessThan(1e-6 * scale);
      expect(Math.abs(kid.std - expected.kid_float64.std)).toBeLessThan(1e-6 * scale);
      // torch-fidelity itself runs in float32
      expect(Math.abs(kid.mean - expected.kid.mean)).toBeLessThan(1e-3 * scale);
      expect(Math.abs(kid.std - expected.kid.std)).toBeLessThan(1e-3 * scale);
    });
  }
});

it('the two routes agree where both are quick', () => {
  const rec = readRecording('seed1');
  const a = rec.features.get('a_192')!;
  const b = rec.features.get('b_192')!;
  const sqrtm = frechetDistanceOfFeatures(a.values, a.rows, b.values, b.rows, 192, { method: 'sqrtm' });
  const lowRank = frechetDistanceOfFeatures(a.values, a.rows, b.values, b.rows, 192, { method: 'low-rank' });
  expect(Math.abs(sqrtm.fid - lowRank.fid) / sqrtm.fid).toBeLessThan(1e-5);
  expect(frechetDistance(featureStatistics(a.values, a.rows, 192), featureStatistics(b.values, b.rows, 192)).fid).toBe(sqrtm.fid);
});

describe('npz statistics', () => {
  it("reads pytorch-fid's --save-stats file: the statistics we compute from the same features", () => {
    const npz = readNpz(new Uint8Array(readFileSync(join(TESTDATA, 'many64', 'stats_a_64.npz'))), 'stats_a_64.npz');
    const rec = readRecording('many64');
    const a = rec.features.get('a_64')!;
    const ours = featureStatistics(a.values, a.rows, 64);
    const mu = npz.get('mu')!;
    const sigma = npz.get('sigma')!;
    expect(mu.shape).toEqual([64]);
    expect(sigma.shape).toEqual([64, 64]);
    for (let i = 0; i < 64; i++) expect(Math.abs(ours.mu[i] - mu.data[i])).toBeLessThan(1e-12 * Math.max(1, Math.abs(mu.data[i])));
    for (let i = 0; i < 64 * 64; i++) expect(Math.abs(ours.sigma[i] - sigma.data[i])).toBeLessThan(1e-12);
  });

  it('writes what it reads', () => {
    const bytes = writeNpz({
      mu: { shape: [3], data: Float64Array.from([1, 2, 3]) },
      features: { shape: [2, 2], data: Float32Array.from([0.5, 1, 1.5, 2]) },
      meta: { shape: [2], data: Uint8Array.from([123, 125]) },
    });
    const back = readNpz(bytes, 'x.npz');
    expect(back.get('mu')).toEqual({ shape: [3], data: Float64Array.from([1, 2, 3]) });
    expect(back.get('features')).toEqual({ shape: [2, 2], data: Float32Array.from([0.5, 1, 1.5, 2]) });
    expect(back.get('meta')).toEqual({ shape: [2], data: Uint8Array.from([123, 125]) });
  });

  it('names the file it cannot read', () => {
    expect(() => readNpz(Uint8Array.from([1, 2, 3]), 'broken.npz')).toThrow(/^broken\.npz: not an \.npz archive/);
  });
});
