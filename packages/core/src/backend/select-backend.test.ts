import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { expect, test } from 'vitest';
import '../testing/harness';
import { describeBackendChoice, selectBackend } from './select-backend';

test('auto passes over the native backends when they are not installed and picks wasm', async () => {
  const choice = await selectBackend('auto');
  expect(choice.name).toBe('wasm');
  expect(tf.getBackend()).toBe('wasm');
  const names = choice.attempts.map((a) => a.name);
  expect(names).toEqual(['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm']);
  const [gpu, webgpu, native] = choice.attempts;
  for (const skipped of [gpu, native]) {
    expect(skipped.ok).toBe(false);
    expect(skipped.reason).toBe('not installed');
  }
  // No hardware adapter on the test machines: none at all, or SwiftShader (software) where VK_ICD_FILENAMES names it.
  expect(webgpu.ok).toBe(false);
  expect(webgpu.reason).toMatch(/^(no WebGPU adapter: install the `webgpu` package|only a software adapter, .*, software \(name it to use it anyway\))/);
  // By default the wasm backend runs on every core (the pool has at most 8).
  const threads = Math.min(8, availableParallelism());
  expect(choice.threads).toBe(threads);
  expect(describeBackendChoice(choice)).toBe(
    `backend wasm, ${threads} thread${threads === 1 ? '' : 's'} (passed over: tensorflow-gpu: not installed; webgpu: ${webgpu.reason}; tensorflow: not installed)`,
  );
});

test('an explicit name is used as given', async () => {
  expect((await selectBackend('cpu')).name).toBe('cpu');
  expect((await selectBackend('wasm')).name).toBe('wasm');
});

test('an unknown name lists the valid ones', async () => {
  await expect(selectBackend('tpu')).rejects.toThrow(
    "unknown backend 'tpu': choose one of auto, tensorflow-gpu, tensorflow, wasm, cpu, webgl, webgpu",
  );
});

test('an unavailable backend says why and lists the valid names', async () => {
  await expect(selectBackend('tensorflow')).rejects.toThrow(/backend 'tensorflow' is unavailable: tensorflow \(not installed: npm i @tensorflow\/tfjs-node\)\. Valid names: auto/);
  await expect(selectBackend('webgl')).rejects.toThrow(/backend 'webgl' is unavailable/);
});
