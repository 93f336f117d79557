import * as tf from '@tensorflow/tfjs-core';
import { Rng, TorchAdam } from '@qsattn/core';
import { describe, expect, test } from 'vitest';
import { expectClose, TEST_BACKENDS, useBackend } from '../../core/src/testing/harness';
import { compareAfterStep, compareGradient, maxAbs } from './conformance/tolerances';
import { ganLoss } from './gan-loss';
import { biasesCancelledByNorm } from './layer-spec';
import { namedGrads } from './named-grads';
import { PatchGan, patchGanLayers } from './patchgan';
import { loadFixture } from './testing/fixtures';

test('basic PatchGAN: convs at 0, 3, 7, 11, 14 and blur buffers at 2, 6, 10', () => {
  const layers = patchGanLayers({ ndf: 8 });
  const at = (kind: string): number[] => layers.flatMap((l, i) => (l.kind === kind ? [i] : []));
  expect(at('conv')).toEqual([0, 3, 7, 11, 14]);
  expect(at('downsample')).toEqual([2, 6, 10]);
  expect(patchGanLayers({ ndf: 8, antialias: false }).filter((l) => l.kind === 'downsample')).toHaveLength(0);
});

describe.each(TEST_BACKENDS)('the official D update on %s', (backend) => {
  test('losses, gradients and Adam step match the recorded step (qs_global_64)', async () => {
    await useBackend(backend);
    const before = tf.memory().numTensors;
    const fx = loadFixture('fixtures/qs_global_64.safetensors');
    const netD = new PatchGan({ ndf: 8 }, new Rng(0));
    netD.params.loadTorch(fx.group('init.D.'), 'init.D');
    const realB = fx.image('input.real_B');
    const fakeB = fx.image('out.fake_B');
    const params = netD.params.trainable();
    let lossFake = 0;
    let lossReal = 0;
    const { value, grads } = namedGrads(() => {
      const fake = ganLoss(netD.apply(fakeB), false, 'lsgan');
      const real = ganLoss(netD.apply(realB), true, 'lsgan');
      lossFake = fake.dataSync()[0];
      lossReal = real.dataSync()[0];
      return tf.mul(tf.add(fake, real), 0.5) as tf.Scalar;
    }, params);
    expectClose([lossFake, lossReal, (await value.data())[0]], [
      ...(await fx.tensors['loss.D_fake'].data()),
      ...(await fx.tensors['loss.D_real'].data()),
      ...(await fx.tensors['loss.D'].data()),
    ]);
    const zero = new Set(biasesCancelledByNorm(netD.layers));
    const networkMax = Math.max(...[...params.keys()].map((n) => maxAbs(fx.tensors[`grad.D.${n}`].dataSync())));
    for (const name of params.keys()) {
      const ours = tf.tidy(() => netD.params.toTorchLayout(name, grads[name]));
      const c = compareGradient(await ours.data(), await fx.tensors[`grad.D.${name}`].data(), { networkMax, exactlyZero: zero.has(name) });
      expect(c.ok, `grad.D.${name}: error ${c.error} > ${c.tolerance}`).toBe(true);
      ours.dispose();
    }
    const adam = new TorchAdam(params, { lr: 2e-4, beta1: 0.5, beta2: 0.999 });
    adam.apply(grads);
    for (const name of params.keys()) {
      const ours = tf.tidy(() => netD.params.toTorchLayout(name, params.get(name)!));
      const recorded = fx.tensors[`grad.D.${name}`].dataSync();
      const gradTolerance = compareGradient(recorded, recorded, { networkMax, exactlyZero: zero.has(name) }).tolerance;
      const c = compareAfterStep(await ours.data(), await fx.tensors[`after.D.${name}`].data(), recorded, gradTolerance, 2e-4);
      expect(c.ok, `after.D.${name}: ${c.error} of elements outside 1e-6`).toBe(true);
      ours.dispose();
    }
    tf.dispose([value, realB, fakeB, ...Object.values(grads)]);
    adam.dispose();
    netD.dispose();
    fx.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
