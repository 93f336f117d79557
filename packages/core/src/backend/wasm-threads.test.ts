// Run in a fresh module graph (each test file is isolated): the wasm backend is started here, not by another test.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import '../register';
import { instanceNorm } from '../ops/instance-norm';
import { testValues } from '../testing/harness';
import { describeBackendChoice, selectBackend } from './select-backend';
import { wasmThreadsInUse } from './wasm-threads';

/** Forward and backward through the kernels the training step spends its time in, read back as raw bytes. */
function workload(): Uint8Array[] {
  const x = tf.tensor4d(Float32Array.from(testValues(2 * 24 * 24 * 32, 1)), [2, 24, 24, 32]);
  const w = tf.tensor4d(Float32Array.from(testValues(3 * 3 * 32 * 48, 2)), [3, 3, 32, 48]);
  const dw = tf.tensor4d(Float32Array.from(testValues(3 * 3 * 32 * 1, 3)), [3, 3, 32, 1]);
  const m = tf.tensor2d(Float32Array.from(testValues(300 * 200, 4)), [300, 200]);
  // 4×4 at stride 2, as the anti-aliasing Upsample's gradient: a 5×5 embedding forward, phases backward.
  const blur = tf.tensor4d(Float32Array.from(testValues(4 * 4 * 32 * 1, 5)), [4, 4, 32, 1]);
  const upsamplePad: tf.backend_util.ExplicitPadding = [[0, 0], [2, 2], [2, 2], [0, 0]];
  // Three output channels, as a generator's last conv: its filter gradient takes the swapped conv.
  const toImage = tf.tensor4d(Float32Array.from(testValues(5 * 5 * 32 * 3, 6)), [5, 5, 32, 3]);
  // 3×3 stride 1 on 64 channels, as a ResNet block's: Winograd forward and input gradient.
  const blockX = tf.tensor4d(Float32Array.from(testValues(32 * 32 * 64, 7)), [1, 32, 32, 64]);
  const block = tf.tensor4d(Float32Array.from(testValues(3 * 3 * 64 * 64, 8)), [3, 3, 64, 64]);
  const loss = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor, e: tf.Tensor, f: tf.Tensor, g: tf.Tensor, h: tf.Tensor) => {
    const y = tf.add(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'), tf.mean(tf.conv2d(a as tf.Tensor4D, f as tf.Tensor4D, 1, 'valid')));
    const v = tf.sum(tf.square(tf.conv2d(g as tf.Tensor4D, h as tf.Tensor4D, 1, 'same')));
    const z = tf.depthwiseConv2d(a as tf.Tensor4D, c as tf.Tensor4D, 1, 'valid');
    const u = tf.depthwiseConv2d(a as tf.Tensor4D, e as tf.Tensor4D, 2, upsamplePad);
    const p = tf.matMul(d as tf.Tensor2D, d as tf.Tensor2D, true, false);
    // Instance norm: its statistics in JS, its normalisation a fused 1×1 depthwise conv, per image of the batch.
    const normed = tf.sum(tf.mul(instanceNorm(y as tf.Tensor4D), y));
    return tf.add(tf.add(tf.add(tf.add(tf.sum(tf.square(y)), normed), tf.add(tf.sum(tf.relu(z)), tf.sum(tf.square(u)))), tf.mean(tf.square(p))), v);
  };
  const results = tf.tidy(() => {
    const { value, grads } = tf.valueAndGrads(loss)([x, w, dw, m, blur, toImage, blockX, block]);
    const y = tf.conv2d(x, w, 1, 'same');
    return [value, ...grads, y, tf.matMul(m, m, false, true)];
  });
  const bytes = results.map((t) => new Uint8Array(t.dataSync().slice().buffer));
  tf.dispose([...results, x, w, dw, m, blur, toImage, blockX, block]);
  return bytes;
}

describe('the wasm backend on threads', () => {
  let twoThreads: Uint8Array[];

  test('two threads start in Node (tfjs alone would run one) and say so', async () => {
    const choice = await selectBackend('wasm', { threads: 2 });
    expect(choice.threads).toBe(2);
    expect(await wasmThreadsInUse()).toBe(2);
    expect(describeBackendChoice(choice)).toBe('backend wasm, 2 threads');
    twoThreads = workload();
  });

  test('the thread count is fixed once the backend runs: asking for another names the fix', async () => {
    await expect(selectBackend('wasm', { threads: 3 })).rejects.toThrow(
      "the wasm backend is already running on 2 threads: choose the thread count before it starts (the first selectBackend call), or tf.removeBackend('wasm') first",
    );
    expect((await selectBackend('wasm', { threads: 2 })).threads).toBe(2); // the same count is fine
  });

  test('one thread (the package’s own build) computes bit for bit what two threads computed', async () => {
    tf.removeBackend('wasm');
    const choice = await selectBackend('wasm', { threads: 1 });
    expect(choice.threads).toBe(1);
    expect(describeBackendChoice(choice)).toBe('backend wasm, 1 thread');
    const oneThread = workload();
    expect(oneThread).toHaveLength(twoThreads.length);
    oneThread.forEach((bytes, i) => expect(Buffer.from(bytes).equals(Buffer.from(twoThreads[i])), `result ${i}`).toBe(true));
  });

  test('back on more threads after removing the backend, and more than 8 runs on 8', async () => {
    tf.removeBackend('wasm');
    expect((await selectBackend('wasm', { threads: 64 })).threads).toBe(8);
    const again = workload();
    again.forEach((bytes, i) => expect(Buffer.from(bytes).equals(Buffer.from(twoThreads[i])), `result ${i}`).toBe(true));
  });

  test('a thread count that is not a whole number from 1 up is refused', async () => {
    for (const threads of [0, -2, 1.5, Number.NaN]) {
      await expect(selectBackend('wasm', { threads })).rejects.toThrow(/^threads must be a whole number from 1 up \(got .*\); e\.g\. --threads 2$/);
    }
  });
});
