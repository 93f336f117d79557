import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { useBackend } from '../../../core/src/testing/harness';
import { TESTDATA } from '../testing/fixtures';
import { runConformance } from './run-conformance';

const cases: ['cpu' | 'wasm', string][] = [
  ['wasm', 'qs_global_64'],
  ['wasm', 'qs_local_64'],
  ['wasm', 'qs_local_global_64'],
  ['cpu', 'qs_global_64'],
];

describe('the official training step, replayed', () => {
  test.each(cases)('%s: %s', async (backend, name) => {
    await useBackend(backend);
    const before = tf.memory().numTensors;
    const path = join(TESTDATA, 'fixtures', `${name}.safetensors`);
    const report = await runConformance(new Uint8Array(readFileSync(path)), path);
    const failed = report.rows.filter((r) => !r.ok);
    expect(failed, JSON.stringify(report.rows, null, 1)).toEqual([]);
    expect(report.rows.map((r) => r.group)).toEqual(expect.arrayContaining(['loss', 'out.fake_B', 'nceA.attn', 'nceB.grad_feat_k', 'grad.G', 'after.F']));
    expect(tf.memory().numTensors).toBe(before);
  });
});
