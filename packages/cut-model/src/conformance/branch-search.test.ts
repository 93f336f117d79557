import { describe, expect, test } from 'vitest';
import type { NearKink } from '../activation-branches';
import { type Outlier, unitsBehind } from './run-conformance';

/** A near-kink unit at `site`, at (image, row, column, channel) of an NHWC map of `shape`. */
function unit(site: string, shape: number[], [n, y, x, c]: number[]): NearKink {
  const [, h, w, ch] = shape;
  return { site, index: ((n * h + y) * w + x) * ch + c, shape, value: 1e-7, scale: 1, upstream: 1, slope: 0 };
}

/** A conv weight (OIHW) or bias outlier whose farthest-off element is at [o, i, 0, 0] (or [o]). */
const outlier = (name: string, shape: number[], o: number, i: number, net: Outlier['net'] = 'G'): Outlier => ({
  net,
  name,
  shape,
  at: shape.length === 1 ? o : (o * shape[1] + i) * shape[2] * shape[3],
  ratio: 3,
});

describe('the branch search: units behind one outlying weight gradient', () => {
  const map = [2, 16, 16, 256];
  const units = [
    unit('G(translated):model.14.conv_block.3.', map, [1, 12, 1, 142]),
    unit('G(real):model.14.conv_block.3.', map, [0, 3, 7, 7]),
    unit('G(real):model.14.conv_block.3.', map, [0, 5, 5, 212]),
    unit('G(real):model.14.conv_block.7.', map, [0, 0, 0, 142]),
    unit('G(real):model.15.conv_block.3.', map, [0, 0, 0, 142]),
    unit('G(real):model.3.', [2, 64, 64, 64], [0, 1, 2, 37]),
    unit('G(real):model.10.', [2, 16, 16, 256], [0, 1, 2, 37]),
    unit('D(real_B), D step:model.1.', [1, 32, 32, 64], [0, 4, 4, 9]),
  ];

  test('the first rectifier after the layer, in the channel of either of its first two dimensions, in any pass', () => {
    const got = unitsBehind(outlier('model.14.conv_block.1.weight', [256, 256, 3, 3], 142, 212), units);
    expect(got).toEqual([units[0], units[2]]);
  });

  test('layer indices compare as numbers (model.3 follows model.1, not model.10)', () => {
    expect(unitsBehind(outlier('model.1.weight', [64, 3, 7, 7], 37, 0), units)).toEqual([units[5]]);
    expect(unitsBehind(outlier('model.1.bias', [64], 37, 0), units)).toEqual([units[5]]);
  });

  test('nothing when no rectifier follows the layer in its block, or none in its channel', () => {
    expect(unitsBehind(outlier('model.14.conv_block.5.weight', [256, 256, 3, 3], 142, 142), units)).toEqual([units[3]]);
    expect(unitsBehind(outlier('model.15.conv_block.5.weight', [256, 256, 3, 3], 142, 142), units)).toEqual([]);
    expect(unitsBehind(outlier('model.0.weight', [64, 3, 4, 4], 10, 0, 'D'), units)).toEqual([]);
    expect(unitsBehind(outlier('model.0.weight', [64, 3, 4, 4], 9, 0, 'D'), units)).toEqual([units[7]]);
    // D's layers are named as G's (model.N): a G outlier never reaches D's units, nor the reverse.
    expect(unitsBehind(outlier('model.0.weight', [64, 3, 4, 4], 9, 0, 'G'), units)).toEqual([]);
    expect(unitsBehind(outlier('model.1.weight', [64, 3, 7, 7], 37, 0, 'D'), units)).toEqual([]);
  });
});
