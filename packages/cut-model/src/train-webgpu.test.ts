// Training on webgpu in Node (SwiftShader where the machine has no GPU): the asynchronous step, memory freed step
// by step, and the synchronous step's one-line refusal.
import * as tf from '@tensorflow/tfjs-core';
import { expect, test } from 'vitest';
import { testValues } from '../../core/src/testing/harness';
import { webgpuSuite } from '../../core/src/testing/webgpu-suite';
import { CutModel } from './cut-model';

const { describeGpu } = await webgpuSuite();

const batch = (seed: number): tf.Tensor4D => tf.tensor4d(Float32Array.from(testValues(32 * 32 * 3, seed)), [1, 32, 32, 3]);

describeGpu('training', () => {
  test('steps on webgpu keep tensors and GPU memory steady; trainStep says to use trainStepAsync', async () => {
    await tf.setBackend('webgpu');
    const model = new CutModel({ ngf: 4, ndf: 4, netFNc: 16, numPatches: 16, qsMode: 'global', nLayersD: 2, netD: 'n_layers' }, { seed: 2 });
    const [a, b] = [batch(1), batch(2)];
    expect(() => model.trainStep(a, b)).toThrow(
      /^trainStep reads values back synchronously, which the webgpu backend cannot do here: use `await model\.trainStepAsync\(…\)`$/,
    );
    const seen: { tensors: number; bytes: number; allocated: number }[] = [];
    for (let i = 0; i < 3; i++) {
      const { losses } = await model.trainStepAsync(a, b);
      expect(Object.values(losses).every(Number.isFinite)).toBe(true);
      const memory = tf.memory() as tf.MemoryInfo & { numBytesInGPU: number; numBytesAllocatedInGPU: number };
      seen.push({ tensors: memory.numTensors, bytes: memory.numBytesInGPU, allocated: memory.numBytesAllocatedInGPU });
    }
    expect(model.step).toBe(3);
    // The first step fills the buffer pool; later ones reuse it.
    expect(seen[2]).toEqual(seen[1]);
    tf.dispose([a, b]);
    model.dispose();
  }, 900_000);
});
