import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kernelInceptionDistance } from './kid';
import { NumpyRandomState } from './mt19937';
import { TESTDATA } from './testing/recording';

const choices = JSON.parse(readFileSync(join(TESTDATA, 'sqrtm.json'), 'utf8').replace(/\bNaN\b/g, 'null')).choice as Record<string, number[][]>;

describe('NumpyRandomState', () => {
  it('draws what numpy.random.RandomState(seed).choice(n, m, replace=False) draws, twice in a row', () => {
    for (const [key, expected] of Object.entries(choices)) {
      const [seed, n, m] = key.split(':').map(Number);
      const rng = new NumpyRandomState(seed);
      expect([rng.choice(n, m), rng.choice(n, m)]).toEqual(expected);
    }
  });

  it('gives MT19937 words of the reference implementation (init_genrand(5489))', () => {
    const rng = new NumpyRandomState(5489);
    expect(rng.nextUint32()).toBe(3499211612);
    expect(rng.nextUint32()).toBe(581869302);
  });

  it('rejects seeds numpy rejects', () => {
    expect(() => new NumpyRandomState(-1)).toThrow(RangeError);
    expect(() => new NumpyRandomState(2 ** 32)).toThrow(RangeError);
  });
});

describe('kernelInceptionDistance', () => {
  it('is the unbiased MMD² with the cubic polynomial kernel, one subset of all samples when they fit', () => {
    // x = [[0], [1]], y = [[2], [4]], d = 1: k(a, b) = (ab + 1)³
    const k = (a: number, b: number) => (a * b + 1) ** 3;
    const expected = (k(0, 1) * 2) / 2 + (k(2, 4) * 2) / 2 - (2 * (k(0, 2) + k(0, 4) + k(1, 2) + k(1, 4))) / 4;
    const r = kernelInceptionDistance([0, 1], 2, [2, 4], 2, 1, { subsets: 10 });
    expect(r).toEqual({ mean: expected, std: 0, subsetSize: 2, subsets: 1 });
  });

  it('caps the subset size at the smaller count and keeps drawing subsets of the larger set', () => {
    const r = kernelInceptionDistance([0, 1, 2], 3, [0, 1, 3, 5, 7], 5, 1, { subsets: 4, subsetSize: 100 });
    expect(r.subsetSize).toBe(3);
    expect(r.subsets).toBe(4);
    expect(r.std).toBeGreaterThan(0);
  });

  it('needs subsets of at least two samples', () => {
    expect(() => kernelInceptionDistance([0, 1], 2, [1], 1, 1)).toThrow(/at least 2 images/);
  });
});
