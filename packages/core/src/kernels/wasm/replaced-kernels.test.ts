import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../testing/harness';
import { describe, expect, test } from 'vitest';
import { batchMatMulConfig } from './batch-mat-mul';
import { identityConfig } from './identity';
import { sliceConfig, splitVConfig } from './slice';
import { collapsePermutation } from './heap-transpose';
import { tileConfig } from './tile';
import { transposeConfig } from './transpose';
import { expectWasmMatchesCpu, input, runOn } from './test-support';

test('BatchMatMul, Identity, Slice, SplitV and Transpose are ours once the wasm backend is set', async () => {
  await useBackend('wasm');
  for (const config of [batchMatMulConfig, identityConfig, sliceConfig, splitVConfig, transposeConfig]) {
    expect(tf.getKernel(config.kernelName, 'wasm')).toBe(config);
  }
});

describe('BatchMatMul on wasm', () => {
  const cases: [string, number[], number[]][] = [
    ['matrices', [5, 7], [7, 3]],
    ['a batch', [3, 4, 6], [3, 6, 2]],
    ['a broadcast batch', [2, 1, 33, 40], [1, 3, 40, 35]],
  ];
  test.each(cases)('%s, every transpose combination, matches cpu', async (_, aShape, bShape) => {
    const swap = (s: number[]) => [...s.slice(0, -2), s[s.length - 1], s[s.length - 2]];
    for (const transposeA of [false, true]) {
      for (const transposeB of [false, true]) {
        await expectWasmMatchesCpu(() =>
          tf.matMul(input(transposeA ? swap(aShape) : aShape, 1), input(transposeB ? swap(bShape) : bShape, 2), transposeA, transposeB),
        );
      }
    }
  });
});

describe('Slice and SplitV on wasm', () => {
  const cases: [string, number[], number[], number[]][] = [
    ['inner rows of a 4-D tensor', [2, 6, 5, 3], [0, 1, 2, 0], [2, 3, 2, 3]],
    ['one border row', [2, 6, 5, 3], [0, 5, 0, 0], [2, 1, 5, 3]],
    ['part of the last axis', [3, 4, 7], [1, 0, 2], [2, 4, 3]],
    ['a contiguous block', [4, 3, 2], [1, 0, 0], [2, 3, 2]],
    ['rank 5, size -1', [2, 3, 2, 3, 2], [1, 1, 0, 1, 0], [-1, 2, -1, 2, 1]],
    ['a vector', [9], [2], [5]],
    ['an empty slice', [4, 3], [1, 0], [0, 3]],
  ];
  test.each(cases)('Slice: %s matches cpu', async (_, shape, begin, size) => {
    await expectWasmMatchesCpu(() => tf.slice(input(shape, 3), begin, size));
  });

  test('Slice of int32 and bool tensors', async () => {
    const ints = () => tf.tensor3d(Int32Array.from({ length: 24 }, (_, i) => i * 3 - 7), [2, 3, 4], 'int32');
    await expectWasmMatchesCpu(() => tf.slice(ints(), [0, 1, 1], [2, 2, 2]));
    await expectWasmMatchesCpu(() => tf.slice(tf.greater(ints(), 5), [1, 0, 0], [1, 3, 3]));
  });

  const splits: [string, number[], number | number[], number][] = [
    ['equal parts along the channels', [2, 4, 3, 6], 2, 3],
    ['uneven sizes along the rows', [2, 7, 3, 2], [2, 4, 1], 1],
  ];
  test.each(splits)('SplitV: %s matches cpu', async (_, shape, parts, axis) => {
    const count = typeof parts === 'number' ? parts : parts.length;
    for (let i = 0; i < count; i++) {
      await expectWasmMatchesCpu(() => tf.split(input(shape, 4), parts, axis)[i]);
    }
  });
});

test('Identity on wasm shares the buffer, which outlives the original', async () => {
  await useBackend('wasm');
  const buffers = tf.engine().backend.numDataIds();
  const x = input([3, 4], 5);
  const values = x.dataSync().slice();
  const copy = tf.clone(x);
  expect(tf.engine().backend.numDataIds()).toBe(buffers + 1);
  x.dispose();
  expect(copy.dataSync()).toEqual(values);
  copy.dispose();
  expect(tf.engine().backend.numDataIds()).toBe(buffers);
  // Gradients save their inputs through Identity: a conv gradient still matches cpu, leaking nothing.
  const loss = (w: tf.Tensor) => tf.sum(tf.square(tf.conv2d(input([1, 5, 5, 2], 6) as tf.Tensor4D, w as tf.Tensor4D, 1, 'same')));
  await expectWasmMatchesCpu(() => tf.grad(loss)(input([3, 3, 2, 2], 7)));
  await runOn('wasm', () => tf.clone(input([2, 2], 8)));
});

describe('Transpose on wasm', () => {
  test('permutations collapse: size-1 axes dropped, neighbours merged', () => {
    expect(collapsePermutation([2, 18, 18, 256], [1, 2, 0, 3])).toEqual({ shape: [2, 324, 256], perm: [1, 0, 2] });
    expect(collapsePermutation([1, 18, 18, 256], [3, 1, 2, 0])).toEqual({ shape: [324, 256], perm: [1, 0] });
    expect(collapsePermutation([3, 1, 4], [2, 1, 0])).toEqual({ shape: [3, 4], perm: [1, 0] });
    expect(collapsePermutation([2, 3], [0, 1])).toEqual({ shape: [6], perm: [0] });
    expect(collapsePermutation([1, 1], [1, 0])).toEqual({ shape: [], perm: [] });
  });

  const cases: [number[], number[]][] = [
    [[37, 45], [1, 0]],
    [[3, 40, 33], [0, 2, 1]],
    [[2, 5, 6, 35], [3, 1, 2, 0]],
    [[2, 5, 6, 7], [1, 2, 0, 3]],
    [[3, 3, 4, 5], [0, 1, 3, 2]],
    [[2, 3, 4, 5], [2, 0, 3, 1]],
    [[1, 4, 1, 6], [3, 2, 1, 0]],
    [[2, 3, 2, 3, 2], [4, 2, 0, 3, 1]],
    [[6], [0]],
  ];
  test.each(cases)('%j by %j matches cpu', async (shape, perm) => {
    await expectWasmMatchesCpu(() => tf.transpose(input(shape, 9), perm));
  });

  test('int32 and bool tensors', async () => {
    const ints = () => tf.tensor3d(Int32Array.from({ length: 60 }, (_, i) => i * 5 - 11), [3, 4, 5], 'int32');
    await expectWasmMatchesCpu(() => tf.transpose(ints(), [2, 0, 1]));
    await expectWasmMatchesCpu(() => tf.transpose(tf.greater(ints(), 40), [1, 2, 0]));
  });
});

describe('Tile on wasm', () => {
  const cases: [string, number[], number[]][] = [
    ['one scalar to a 256×256 mask (PatchNCE)', [1, 1, 1], [1, 256, 256]],
    ['every axis', [2, 3, 4], [3, 2, 2]],
    ['the first axis only', [3, 5], [4, 1]],
    ['the last axis only, odd repeats', [2, 3, 5], [1, 1, 7]],
    ['an edge row, as replication padding', [2, 1, 6, 4], [1, 3, 1, 1]],
    ['rank 5', [2, 1, 3, 1, 2], [1, 3, 2, 2, 1]],
    ['a vector', [5], [3]],
    ['nothing to repeat', [2, 3], [1, 1]],
    ['zero repeats', [2, 3], [0, 2]],
  ];
  test.each(cases)('%s matches cpu', async (_, shape, reps) => {
    expect((await expectWasmMatchesCpu(() => tf.tile(input(shape, 4), reps))).shape).toEqual(shape.map((d, a) => d * reps[a]));
  });

  test('int32 and bool tensors, and the gradient (sums over the copies)', async () => {
    const ints = () => tf.tensor3d(Int32Array.from({ length: 12 }, (_, i) => i * 5 - 9), [2, 3, 2], 'int32');
    await expectWasmMatchesCpu(() => tf.tile(ints(), [2, 1, 3]));
    await expectWasmMatchesCpu(() => tf.tile(tf.greater(ints(), 0), [1, 2, 2]));
    await expectWasmMatchesCpu(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.tile(t, [2, 3, 1]), input([4, 9, 2], 6))))(input([2, 3, 2], 5)));
  });

  test('is ours once the wasm backend is set', async () => {
    await useBackend('wasm');
    expect(tf.getKernel(tileConfig.kernelName, 'wasm')).toBe(tileConfig);
  });
});
