import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { testValues, useBackend } from '../../core/src/testing/harness';
import { CutModel } from './cut-model';

const OPTIONS = { ngf: 8, ndf: 8, netFNc: 32, numPatches: 16, qsMode: 'global' } as const;

function batch(size: number, seed: number): tf.Tensor4D {
  return tf.tensor4d(Float32Array.from(testValues(size * size * 3, seed)), [1, size, size, 3]);
}

describe('trainStepAsync (wasm)', () => {
  test('selectQueries gives the selection the step makes itself', async () => {
    await useBackend('wasm');
    const model = new CutModel(OPTIONS, { seed: 1 });
    const [a, b] = [batch(32, 5), batch(32, 6)];
    const ahead = await model.selectQueries(a, b);
    const step = model.trainStep(a, b, { flip: false }, true);
    const rec = step.record!;
    for (const [part, pass] of [['A', rec.nce.A], ['B', rec.nce.B!]] as const) {
      pass.samples.forEach((sample, l) => {
        if (sample.ids instanceof Int32Array) expect(ahead?.[part]?.[l]).toBeUndefined();
        else expect(ahead?.[part]?.[l]?.map((ids) => Array.from(ids))).toEqual(sample.ids.map((ids) => Array.from(ids)));
      });
    }
    expect(rec.nce.A.samples.filter((s) => !(s.ids instanceof Int32Array))).toHaveLength(2);
    tf.dispose([a, b]);
    model.dispose();
  });

  test('the same losses and weights as trainStep, nothing left behind', async () => {
    await useBackend('wasm');
    const [sync, async_] = [new CutModel(OPTIONS, { seed: 3 }), new CutModel(OPTIONS, { seed: 3 })];
    const [a, b] = [batch(32, 7), batch(32, 8)];
    const before = tf.memory().numTensors;
    const want = sync.trainStep(a, b).losses;
    const got = (await async_.trainStepAsync(a, b)).losses;
    expect(got).toEqual(want);
    expect(Number.isFinite(got.G) && Number.isFinite(got.NCE_Y!)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    const [w1, w2] = [sync.netG.params.toTorch(), async_.netG.params.toTorch()];
    for (const name of Object.keys(w1)) expect(Array.from(w2[name].dataSync())).toEqual(Array.from(w1[name].dataSync()));
    tf.dispose([a, b, ...Object.values(w1), ...Object.values(w2)]);
    sync.dispose();
    async_.dispose();
  });
});
