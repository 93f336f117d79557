// The official training step replayed on webgpu in Node (SwiftShader where the machine has no GPU: slow, so one
// recording here; `qsattn conformance --backend webgpu` replays any).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { expect, test } from 'vitest';
import { webgpuSuite } from '../../../core/src/testing/webgpu-suite';
import { TESTDATA } from '../testing/fixtures';
import { runConformance } from './run-conformance';

const { describeGpu } = await webgpuSuite();

describeGpu('the official training step, replayed', () => {
  test('qs_global_64', async () => {
    await tf.setBackend('webgpu');
    const before = tf.memory().numTensors;
    const path = join(TESTDATA, 'fixtures', 'qs_global_64.safetensors');
    const report = await runConformance(new Uint8Array(readFileSync(path)), path);
    expect(report.rows.filter((r) => !r.ok), JSON.stringify(report.rows, null, 1)).toEqual([]);
    expect(report.rows.map((r) => r.group)).toEqual(expect.arrayContaining(['loss', 'out.fake_B', 'nceA.attn', 'nceB.grad_feat_k', 'grad.G', 'after.F']));
    // webgpu's float32 rounding puts a few rectifier inputs within rounding of 0 on the other side: replayed, named.
    for (const unit of report.branches.flipped) expect(Math.abs(unit.value)).toBeLessThanOrEqual(2 ** -17 * unit.scale);
    expect(tf.memory().numTensors).toBe(before);
  }, 1_200_000); // SwiftShader on a loaded 2-core machine: minutes
});
