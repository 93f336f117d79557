// Fuzzed checkpoints: damaged bytes and edited metadata must give a restored model or our one-line error
// naming the file (CheckpointError, or WeightFileError for a file that is not readable safetensors), and
// leave no tensors behind either way.
import * as tf from '@tensorflow/tfjs-core';
import { tensorsToRaw, WeightFileError, writeSafetensors, type RawTensorMap } from '@qsattn/core';
import { beforeAll, describe, expect, test } from 'vitest';
import { useBackend } from '../../core/src/testing/harness';
import { expectReadOrTypedError, fuzzProperty, mutatedJson, mutationArbitrary } from '../../core/src/testing/fuzz';
import { fc } from '@fast-check/vitest';
import { CheckpointError, modelState, restoreCheckpoint } from './checkpoint';
import { CutModel } from './cut-model';

const SOURCE = 'c.safetensors';
const tiny = { ngf: 2, ndf: 2, netFNc: 4, numPatches: 4, netG: 'resnet_4blocks', netD: 'n_layers', nLayersD: 1, qsMode: 'global' } as const;

let raw: RawTensorMap;
let info: unknown;
let bytes: Uint8Array;

beforeAll(async () => {
  await useBackend('cpu');
  const model = new CutModel(tiny, { seed: 1 });
  const state = modelState(model);
  raw = await tensorsToRaw(state.tensors, 'seed');
  info = state.info;
  tf.dispose(Object.values(state.tensors));
  model.dispose();
  bytes = writeSafetensors(raw, { qsattn: JSON.stringify(info) });
});

/** Restores the file, then checks that the outcome is typed and that no tensor outlives it. */
async function restore(file: Uint8Array): Promise<'read' | 'refused'> {
  const before = tf.memory().numTensors;
  const outcome = await expectReadOrTypedError(() => restoreCheckpoint(file, SOURCE), [CheckpointError, WeightFileError], `${SOURCE}: `, ({ model }) =>
    model.dispose(),
  );
  expect(tf.memory().numTensors).toBe(before);
  return outcome;
}

describe('checkpoints', () => {
  fuzzProperty('checkpoint', 'edited metadata', fc.nat().chain(() => mutatedJson(info)), (edited) =>
    restore(writeSafetensors(raw, { qsattn: JSON.stringify(edited) ?? 'undefined' })),
  60);
  fuzzProperty('checkpoint', 'damaged bytes', fc.array(mutationArbitrary(), { minLength: 1, maxLength: 3 }), (mutations) =>
    restore(mutations.reduce<Uint8Array>((b, mutate) => mutate(b), bytes)),
  60);
  fuzzProperty('checkpoint', 'tensors renamed, dropped or reshaped', fc.array(fc.tuple(fc.nat(), fc.constantFrom('drop', 'rename', 'reshape')), { minLength: 1, maxLength: 3 }), (edits) => {
    const tensors = { ...raw };
    for (const [n, kind] of edits) {
      const names = Object.keys(tensors);
      const name = names[n % names.length];
      const t = tensors[name];
      delete tensors[name];
      if (kind === 'rename') tensors[`${name}x`] = t;
      if (kind === 'reshape') tensors[name] = { ...t, shape: [t.data.length] };
    }
    return restore(writeSafetensors(tensors, { qsattn: JSON.stringify(info) }));
  }, 60);
});

test('the undamaged seed restores, and its restored state saves back to the same file', async () => {
  const { model } = await restoreCheckpoint(bytes, SOURCE);
  const state = modelState(model);
  const again = writeSafetensors(await tensorsToRaw(state.tensors, 'again'), { qsattn: JSON.stringify(state.info) });
  tf.dispose(Object.values(state.tensors));
  model.dispose();
  expect(again).toEqual(bytes);
});
