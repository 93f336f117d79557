import * as tf from '@tensorflow/tfjs-core';
import '../../testing/harness';
import { expect, test } from 'vitest';
import { expectSame, expectWasmMatchesCpu, input, runOn } from './test-support';

interface Case {
  x: number[];
  ids: number[];
  numSegments: number;
}

function randomIds(count: number, max: number): number[] {
  return Array.from({ length: count }, (_, i) => (i * 7919 + 13) % max);
}

const cases: [string, Case][] = [
  ['repeats, out of order, numSegments above the largest id', { x: [6, 3], ids: [2, 0, 2, 5, 1, 0], numSegments: 9 }],
  ['1-D values', { x: [5], ids: [4, 1, 1, 0, 4], numSegments: 5 }],
  ['rank-3 values', { x: [4, 2, 3], ids: [3, 1, 3, 0], numSegments: 5 }],
  ['many rows', { x: [300, 8], ids: randomIds(300, 50), numSegments: 60 }],
];

test.each(cases)('UnsortedSegmentSum on wasm: %s matches cpu (op and kernel)', async (_, c) => {
  const ids = () => tf.tensor1d(c.ids, 'int32');
  const viaOp = await expectWasmMatchesCpu(() => tf.unsortedSegmentSum(input(c.x, 1), ids(), c.numSegments));
  const viaKernel = await expectWasmMatchesCpu(
    () =>
      tf.engine().runKernel(
        tf.UnsortedSegmentSum,
        { x: input(c.x, 1), segmentIds: ids() },
        {
          numSegments: c.numSegments,
        }
      ) as tf.Tensor
  );
  expectSame(viaKernel, viaOp);
  expect(viaOp.shape).toEqual([c.numSegments, ...c.x.slice(1)]);
});

test('UnsortedSegmentSum hand-checked, dropping ids outside [0, numSegments), in float32 and int32', async () => {
  for (const dtype of ['float32', 'int32'] as const) {
    const result = await runOn('wasm', () =>
      tf.unsortedSegmentSum(
        tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [5, 2], dtype),
        tf.tensor1d([2, 0, 2, -1, 4], 'int32'),
        4
      )
    );
    expectSame(result, { values: [3, 4, 0, 0, 6, 8, 0, 0], shape: [4, 2] });
    expect(result.values).toBeInstanceOf(dtype === 'int32' ? Int32Array : Float32Array);
  }
});

test('UnsortedSegmentSum refuses segment ids that do not index x', async () => {
  const bad = () => tf.unsortedSegmentSum(tf.zeros([4, 2]), tf.tensor1d([0, 1, 0], 'int32'), 2);
  await expect(runOn('wasm', bad)).rejects.toThrow(/segmentIds shape \[3\] must be a prefix of x shape \[4,2\]/);
});

test('tf.grad through tf.gather trains on wasm as on cpu', async () => {
  for (const axis of [0, 1]) {
    await expectWasmMatchesCpu(() => {
      const indices = tf.tensor1d([3, 0, 3, 1, 3], 'int32');
      const gathered = (x: tf.Tensor) => tf.gather(x, indices, axis);
      const dyShape = axis === 0 ? [5, 6] : [4, 5];
      return tf.grad(gathered)(input([4, 6], 1), input(dyShape, 2));
    });
  }
});
