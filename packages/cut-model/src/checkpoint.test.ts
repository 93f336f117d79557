import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { useBackend } from '../../core/src/testing/harness';
import { loadCheckpoint, saveCheckpoint } from './checkpoint';
import { CutModel, type StepLosses } from './cut-model';

const dir = mkdtempSync(join(tmpdir(), 'qsattn-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const small = { ngf: 4, ndf: 4, netFNc: 8, numPatches: 8, nceLayers: [0, 4, 8, 12, 13] };

function batches(step: number): [tf.Tensor4D, tf.Tensor4D] {
  return tf.tidy(() => {
    const a = tf.sin(tf.add(tf.reshape(tf.range(0, 24 * 24 * 3), [1, 24, 24, 3]), step)) as tf.Tensor4D;
    return [a, tf.mul(tf.cos(a), 0.9) as tf.Tensor4D];
  });
}

async function run(model: CutModel, from: number, to: number): Promise<StepLosses[]> {
  const out: StepLosses[] = [];
  for (let s = from; s < to; s++) {
    const [a, b] = batches(s);
    out.push(model.trainStep(a, b).losses);
    tf.dispose([a, b]);
  }
  return out;
}

test('resuming from a checkpoint gives the same losses, step for step, as a run never stopped', async () => {
  await useBackend('wasm');
  const before = tf.memory().numTensors;
  const straight = new CutModel({ ...small, qsMode: 'global' }, { seed: 3 });
  const expected = await run(straight, 0, 4);
  straight.dispose();

  const first = new CutModel({ ...small, qsMode: 'global' }, { seed: 3 });
  const firstHalf = await run(first, 0, 2);
  const path = join(dir, 'latest.safetensors');
  await saveCheckpoint(first, path);
  first.dispose();
  const resumed = await loadCheckpoint(path);
  expect(resumed.step).toBe(2);
  const secondHalf = await run(resumed, 2, 4);
  resumed.dispose();
  expect([...firstHalf, ...secondHalf]).toEqual(expected);
  expect(tf.memory().numTensors).toBe(before);
});

test('a file that is not a checkpoint is refused with its name', async () => {
  await useBackend('wasm');
  const path = join(dir, 'bogus.safetensors');
  writeFileSync(path, Buffer.from('not a checkpoint'));
  await expect(loadCheckpoint(path)).rejects.toThrow(/bogus\.safetensors/);
});
