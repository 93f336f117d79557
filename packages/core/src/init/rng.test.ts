import { describe, expect, test } from 'vitest';
import { Rng } from './rng';

describe('Rng', () => {
  test('the same seed gives the same stream; another seed a different one', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 8 }, () => a.nextUint32());
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(sa);
    expect(Array.from({ length: 8 }, () => c.nextUint32())).not.toEqual(sa);
  });

  test('saving and restoring the state replays exactly, including a pending normal deviate', () => {
    const rng = new Rng(7);
    rng.normal(); // leaves the pair's second value pending
    const saved = JSON.parse(JSON.stringify(rng.getState()));
    const expected = [rng.normal(), rng.uniform(), ...rng.permutation(10), rng.int(1000)];
    const restored = Rng.fromState(saved);
    expect([restored.normal(), restored.uniform(), ...restored.permutation(10), restored.int(1000)]).toEqual(expected);
  });

  test('uniform, normal and int have the right moments and ranges', () => {
    const rng = new Rng(1);
    const n = 200_000;
    let su = 0;
    let sn = 0;
    let sn2 = 0;
    const counts = new Array(6).fill(0);
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      expect(u >= 0 && u < 1).toBe(true);
      su += u;
      const z = rng.normal();
      sn += z;
      sn2 += z * z;
      counts[rng.int(6)]++;
    }
    expect(su / n).toBeCloseTo(0.5, 2);
    expect(sn / n).toBeCloseTo(0, 2);
    expect(sn2 / n).toBeCloseTo(1, 1);
    for (const c of counts) expect(Math.abs(c / n - 1 / 6)).toBeLessThan(0.005);
  });

  test('permutation is a permutation, and every position is reached', () => {
    const rng = new Rng(3);
    const p = rng.permutation(100);
    expect(Array.from(p).sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const firsts = new Set<number>();
    for (let i = 0; i < 200; i++) firsts.add(rng.permutation(5)[0]);
    expect(firsts.size).toBe(5);
  });

  test('bad seeds and states are refused', () => {
    expect(() => new Rng(1.5)).toThrow(/integer/);
    expect(() => Rng.fromState({ algorithm: 'xoshiro128**', words: [0, 0, 0, 0], spareNormal: null })).toThrow(/zero/);
    expect(() => Rng.fromState({ algorithm: 'mt' as 'xoshiro128**', words: [1, 2, 3, 4], spareNormal: null })).toThrow(/xoshiro/);
    expect(() => new Rng(0).int(0)).toThrow(/0 < n/);
  });
});
