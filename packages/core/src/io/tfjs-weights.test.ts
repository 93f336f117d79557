import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import '../testing/harness';
import { TEST_BACKENDS, expectNoLeaks, useBackend } from '../testing/harness';
import {
  TFJS_WEIGHTS_MANIFEST,
  decodeTfjsWeights,
  encodeTfjsWeights,
  loadTfjsWeights,
  saveTfjsWeights,
} from './tfjs-weights';

function sample(): tf.NamedTensorMap {
  return {
    'model.1.weight': tf.tensor4d([1, -2, 3.25, 4], [1, 1, 2, 2]),
    'model.1.bias': tf.tensor1d([0.5]),
    step: tf.scalar(12, 'int32'),
    mask: tf.tensor([true, false, true], [3], 'bool'),
  };
}

async function expectSameTensors(actual: tf.NamedTensorMap, expected: tf.NamedTensorMap): Promise<void> {
  expect(Object.keys(actual)).toEqual(Object.keys(expected));
  for (const [name, t] of Object.entries(expected)) {
    expect([actual[name].dtype, actual[name].shape]).toEqual([t.dtype, t.shape]);
    expect(await actual[name].array()).toEqual(await t.array());
  }
}

describe.each(TEST_BACKENDS)('tfjs weights format (%s)', (backend) => {
  let root: string;
  beforeAll(async () => {
    await useBackend(backend);
    root = mkdtempSync(join(tmpdir(), 'qsattn-tfjs-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test('bytes round trip: a manifest and one content-named shard', async () => {
    const tensors = sample();
    const files = await encodeTfjsWeights(tensors);
    const [group] = files.manifest.weightsManifest;
    expect(group.paths).toEqual([expect.stringMatching(/^weights-[0-9a-f]{8}\.bin$/)]);
    expect(group.weights.map((w) => [w.name, w.dtype, w.shape])).toEqual([
      ['model.1.weight', 'float32', [1, 1, 2, 2]],
      ['model.1.bias', 'float32', [1]],
      ['step', 'int32', []],
      ['mask', 'bool', [3]],
    ]);
    await expectNoLeaks(async () => {
      const back = decodeTfjsWeights(files);
      await expectSameTensors(back, tensors);
      return back;
    });
    tf.dispose(tensors);
  });

  test('reads manifests with several groups and shards', async () => {
    const a = { a: tf.tensor([1, 2]) };
    const b = { b: tf.tensor([3], [1], 'int32') };
    const [fa, fb] = [await encodeTfjsWeights(a), await encodeTfjsWeights(b)];
    const manifest = { weightsManifest: [...fa.manifest.weightsManifest, ...fb.manifest.weightsManifest] };
    const back = decodeTfjsWeights({ manifest, shards: { ...fa.shards, ...fb.shards } });
    await expectSameTensors(back, { ...a, ...b });
    tf.dispose([a, b, back]);
  });

  test('missing and short shards are errors naming the source and tensor', async () => {
    const tensors = sample();
    const files = await encodeTfjsWeights(tensors);
    const [path] = files.manifest.weightsManifest[0].paths;
    expect(() => decodeTfjsWeights({ ...files, shards: {} }, 'run/weights.json')).toThrowError(
      `run/weights.json: lists the shard '${path}', which is missing`,
    );
    const short = { ...files, shards: { [path]: files.shards[path].subarray(0, 20) } };
    expect(() => decodeTfjsWeights(short, 'run/weights.json')).toThrowError(
      "run/weights.json: tensor 'step' ends past the 20 bytes of the shards (shard truncated?)",
    );
    tf.dispose(tensors);
  });

  test('directory round trip; a new save replaces the manifest and removes the old shard', async () => {
    const dir = join(root, `${backend}/generator`);
    const first = sample();
    await saveTfjsWeights(dir, first);
    const firstLoaded = await loadTfjsWeights(dir);
    await expectSameTensors(firstLoaded, first);
    const second = { ...sample(), 'model.1.bias': tf.tensor1d([-1]) };
    await saveTfjsWeights(dir, second);
    const files = readdirSync(dir).sort();
    const manifest = JSON.parse(readFileSync(join(dir, TFJS_WEIGHTS_MANIFEST), 'utf8'));
    expect(files).toEqual([...manifest.weightsManifest[0].paths, TFJS_WEIGHTS_MANIFEST].sort());
    const loaded = await loadTfjsWeights(dir);
    await expectSameTensors(loaded, second);
    tf.dispose([first, firstLoaded, second, loaded]);
  });

  test('a corrupt manifest is an error naming it', async () => {
    const dir = join(root, `${backend}/broken`);
    const x = tf.scalar(1);
    await saveTfjsWeights(dir, { x });
    x.dispose();
    writeFileSync(join(dir, TFJS_WEIGHTS_MANIFEST), '{"weightsManifest": [');
    await expect(loadTfjsWeights(dir)).rejects.toThrowError(/broken\/weights\.json: is not valid JSON/);
    await expect(loadTfjsWeights(join(root, 'nowhere'))).rejects.toThrowError(
      /nowhere\/weights\.json: cannot be read \(ENOENT/,
    );
  });
});
