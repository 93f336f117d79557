// webgpu in Node through the `webgpu` package (Dawn), on SwiftShader where the machine has no GPU.
import * as tf from '@tensorflow/tfjs-core';
import { expect, test } from 'vitest';
import '../testing/harness';
import { webgpuSuite } from '../testing/webgpu-suite';
import { describeBackendChoice, selectBackend } from './select-backend';
import { synchronousReads } from './readback';
import { describeAdapter, formatAdapter } from './webgpu-adapter';

const { describeGpu } = await webgpuSuite();

test('adapters: a fallback or software renderer is software, a real GPU is hardware', () => {
  expect(describeAdapter({ info: { vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader driver 5.0.0' } }).software).toBe(true);
  expect(describeAdapter({ isFallbackAdapter: true, info: { vendor: 'x' } }).software).toBe(true);
  expect(describeAdapter({ info: { vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' } }).software).toBe(true);
  const nvidia = describeAdapter({ info: { vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200' } });
  expect(nvidia.software).toBe(false);
  expect(formatAdapter(nvidia)).toBe('nvidia hopper (NVIDIA H200), hardware');
});

describeGpu('the webgpu backend in Node', () => {
  test('named, it runs on a software adapter and says so; auto passes that adapter over', async () => {
    const named = await selectBackend('webgpu');
    expect(named.name).toBe('webgpu');
    expect(named.adapter).toMatch(/, software$/);
    expect(describeBackendChoice(named)).toBe(`backend webgpu on ${named.adapter}`);
    expect(synchronousReads()).toBe('unsupported');
    expect(Array.from(await tf.square(tf.tensor([1, 2, 3])).data())).toEqual([1, 4, 9]);

    const auto = await selectBackend('auto');
    expect(auto.name).not.toBe('webgpu');
    const webgpu = auto.attempts.find((a) => a.name === 'webgpu');
    expect(webgpu?.reason).toBe(`only a software adapter, ${named.adapter} (name it to use it anyway)`);
    await selectBackend('webgpu');
  });
});
