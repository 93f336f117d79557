import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import '../testing/harness';
import { TEST_BACKENDS, expectNoLeaks, useBackend } from '../testing/harness';
import type { RawTensorMap } from './raw-tensor';
import { rawToTensor, rawToTensors, tensorsToRaw } from './tensor-convert';

describe.each(TEST_BACKENDS)('raw ↔ tfjs tensors (%s)', (backend) => {
  beforeAll(() => useBackend(backend));

  test('float16 bit patterns decode exactly, specials included', () => {
    // 1, -2, 2^-24 (smallest subnormal), 65504 (largest), -0, +inf, -inf, 1/3 rounded, 2^-14 (smallest normal)
    const bits = [0x3c00, 0xc000, 0x0001, 0x7bff, 0x8000, 0x7c00, 0xfc00, 0x3555, 0x0400];
    const t = rawToTensor('h', { dtype: 'F16', shape: [bits.length], data: new Uint16Array(bits) }, 'f.st');
    expect(t.dtype).toBe('float32');
    expect(Array.from(t.dataSync())).toEqual([
      1,
      -2,
      2 ** -24,
      65504,
      -0,
      Infinity,
      -Infinity,
      0.333251953125,
      2 ** -14,
    ]);
    const nan = rawToTensor('h', { dtype: 'F16', shape: [], data: new Uint16Array([0x7e00]) }, 'f.st');
    expect(nan.dataSync()[0]).toBeNaN();
    tf.dispose([t, nan]);
  });

  test('bfloat16 is the top half of float32; float64 rounds to float32', () => {
    const bf = rawToTensor('b', { dtype: 'BF16', shape: [3], data: new Uint16Array([0x3f80, 0xc0a0, 0x0001]) }, 'f.st');
    expect(Array.from(bf.dataSync())).toEqual([1, -5, 2 ** -133]);
    const f64 = rawToTensor('d', { dtype: 'F64', shape: [2], data: new Float64Array([0.1, 1e300]) }, 'f.st');
    expect(Array.from(f64.dataSync())).toEqual([Math.fround(0.1), Infinity]);
    tf.dispose([bf, f64]);
  });

  test('integers become int32, bool stays bool, shapes are kept (0-d and empty too)', () => {
    const raw: RawTensorMap = {
      i64: { dtype: 'I64', shape: [2, 1], data: new BigInt64Array([-(2n ** 31n), 2n ** 31n - 1n]) },
      i16: { dtype: 'I16', shape: [], data: new Int16Array([-7]) },
      i8: { dtype: 'I8', shape: [2], data: new Int8Array([-128, 127]) },
      u8: { dtype: 'U8', shape: [0], data: new Uint8Array(0) },
      bool: { dtype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) },
    };
    const t = rawToTensors(raw, 'f.st');
    expect(Object.values(t).map((x) => [x.dtype, x.shape])).toEqual([
      ['int32', [2, 1]],
      ['int32', []],
      ['int32', [2]],
      ['int32', [0]],
      ['bool', [2]],
    ]);
    expect(Array.from(t.i64.dataSync())).toEqual([-(2 ** 31), 2 ** 31 - 1]);
    expect(Array.from(t.i8.dataSync())).toEqual([-128, 127]);
    expect(Array.from(t.bool.dataSync())).toEqual([1, 0]);
    tf.dispose(t);
  });

  test('an int64 beyond int32 names the file, tensor, value and element, and leaks nothing', async () => {
    const raw: RawTensorMap = {
      ok: { dtype: 'F32', shape: [1], data: new Float32Array([1]) },
      steps: { dtype: 'I64', shape: [3], data: new BigInt64Array([1n, 3_000_000_000n, 2n]) },
    };
    await expectNoLeaks(() => {
      expect(() => rawToTensors(raw, 'ckpt.pth')).toThrowError(
        "ckpt.pth: tensor 'steps' holds the int64 value 3000000000 at element 1, outside int32 (tfjs has no int64)",
      );
    });
  });

  test('tensorsToRaw writes float32, int32 and bool, and names other dtypes', async () => {
    const tensors = {
      f: tf.tensor([1.5, -2]),
      i: tf.tensor([3], [1], 'int32'),
      b: tf.tensor([true, false], [2], 'bool'),
    };
    const raw = await tensorsToRaw(tensors, 'out.st');
    expect(raw).toEqual({
      f: { dtype: 'F32', shape: [2], data: new Float32Array([1.5, -2]) },
      i: { dtype: 'I32', shape: [1], data: new Int32Array([3]) },
      b: { dtype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) },
    });
    const text = tf.tensor(['a']);
    await expect(tensorsToRaw({ z: text }, 'out.st')).rejects.toThrowError(
      "out.st: tensor 'z' has dtype string; savable: float32, int32, bool",
    );
    tf.dispose([...Object.values(tensors), text]);
  });
});
