import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { CONV2D_ROUTE_FLAG, cachedWinogradFilters } from '@qsattn/core';
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

  // The recordings' convs are too small for Winograd to pay ('auto' leaves them direct): here every 3×3 stride-1
  // conv of the step, forward and input gradient, goes through it, and the step must still conform.
  test.each(cases.filter(([backend]) => backend === 'wasm'))('%s, every 3×3 stride-1 conv by Winograd: %s', async (backend, name) => {
    await useBackend(backend);
    tf.env().set(CONV2D_ROUTE_FLAG, 'winograd');
    try {
      const path = join(TESTDATA, 'fixtures', `${name}.safetensors`);
      const report = await runConformance(new Uint8Array(readFileSync(path)), path);
      expect(report.rows.filter((r) => !r.ok), JSON.stringify(report.rows, null, 1)).toEqual([]);
      expect(cachedWinogradFilters()).toBe(0);
    } finally {
      tf.env().set(CONV2D_ROUTE_FLAG, 'auto');
    }
  });
});
