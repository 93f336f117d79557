import * as tf from '@tensorflow/tfjs-core';
import { conv2DBackpropFilter as tfjsCpuFilterGrad } from '@tensorflow/tfjs-backend-cpu/dist/kernels/Conv2DBackpropFilter';
import { describe, expect, test } from 'vitest';
import { useBackend } from '../../testing/harness';
import { convGradsRef, input } from '../wasm/test-support';
import { cpuConv2DBackpropFilterConfig } from './conv2d-backprop-filter';

type Pad = tf.Conv2DBackpropFilterAttrs['pad'];
const cases: { x: [number, number, number, number]; k: [number, number]; co: number; stride: number | [number, number]; pad: Pad }[] = [
  { x: [1, 5, 7, 3], k: [3, 3], co: 4, stride: 1, pad: 'same' },
  { x: [2, 6, 5, 2], k: [1, 1], co: 3, stride: 2, pad: 'valid' },
  { x: [2, 9, 8, 3], k: [4, 4], co: 5, stride: 2, pad: 'same' },
  { x: [1, 7, 8, 2], k: [4, 4], co: 3, stride: [2, 1], pad: 'same' },
  { x: [1, 11, 10, 2], k: [7, 7], co: 3, stride: 1, pad: 'valid' },
  { x: [1, 7, 9, 3], k: [3, 3], co: 2, stride: 2, pad: 1 },
  { x: [1, 4, 5, 2], k: [1, 1], co: 2, stride: 1, pad: 2 },
  { x: [2, 8, 7, 2], k: [3, 2], co: 4, stride: 2, pad: [[0, 0], [2, 0], [0, 1], [0, 0]] },
];

describe('Conv2DBackpropFilter on cpu (@qsattn/core)', () => {
  test('is the one registered', async () => {
    await useBackend('cpu');
    expect(tf.getKernel(tf.Conv2DBackpropFilter, 'cpu')?.kernelFunc).toBe(cpuConv2DBackpropFilterConfig.kernelFunc);
  });

  test.each(cases.map((c) => [`x ${c.x} k ${c.k} co ${c.co} stride ${c.stride} pad ${JSON.stringify(c.pad)}`, c] as const))(
    '%s: bit-identical to tfjs\'s own, and float64-exact',
    async (_, c) => {
      await useBackend('cpu');
      const info = tf.backend_util.computeConv2DInfo(c.x, [...c.k, c.x[3], c.co], c.stride, 1, c.pad);
      const x = input(c.x, 1);
      const dy = input(info.outShape, 2);
      const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape: info.filterShape } as unknown as tf.NamedAttrMap;
      const ours = tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, attrs) as tf.Tensor;
      const backend = tf.backend();
      const theirs = tfjsCpuFilterGrad({ inputs: { x, dy }, backend, attrs } as never) as tf.TensorInfo;
      const theirValues = (backend as unknown as { data: { get(id: object): { values: Float32Array } } }).data.get(theirs.dataId).values;
      expect(Array.from(ours.dataSync())).toEqual(Array.from(theirValues));
      const w = tf.zeros(info.filterShape);
      const want = convGradsRef(x, w, dy, info, false).dw;
      ours.dataSync().forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want[i]))));
      backend.disposeData(theirs.dataId);
      tf.dispose([x, dy, w, ours]);
    },
  );
});
