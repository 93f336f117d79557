// The official training step replayed on webgpu in Node (SwiftShader where the machine has no GPU: slow, so a small
// recording per QS mode here, 32 px and ngf 4; `qsattn conformance --backend webgpu` replays any).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { expect, test } from 'vitest';
import { webgpuSuite } from '../../../core/src/testing/webgpu-suite';
import { TESTDATA } from '../testing/fixtures';
import { runConformance } from './run-conformance';

const { describeGpu } = await webgpuSuite();

// One recording per QS mode, the smallest there are (the official 64-px ones take minutes each on SwiftShader).
const CASES = ['global_p80_layers4_32', 'local_32x48_noaaup_nlayers2_nonsat', 'local_global_resnet6_vanilla_lambdas_T_32'];
const DIR = join(TESTDATA, 'fixtures-extra');

describeGpu('the official training step, replayed', () => {
  test.each(CASES)('%s', async (name) => {
    await tf.setBackend('webgpu');
    const before = tf.memory().numTensors;
    const path = join(DIR, `${name}.safetensors`);
    const companion = join(DIR, 'float64', `${name}.safetensors`);
    const truth = existsSync(companion) ? new Uint8Array(readFileSync(companion)) : undefined;
    const report = await runConformance(new Uint8Array(readFileSync(path)), path, { truth });
    expect(report.rows.filter((r) => !r.ok), JSON.stringify(report.rows, null, 1)).toEqual([]);
    expect(report.rows.map((r) => r.group)).toEqual(expect.arrayContaining(['loss', 'out.fake_B', 'nceA.pool_k', 'nceB.grad_feat_k', 'grad.G', 'after.F']));
    // webgpu's float32 rounding puts a few rectifier inputs within rounding of 0 on the other side: replayed, named.
    for (const unit of report.branches.flipped) expect(Math.abs(unit.value)).toBeLessThanOrEqual(2 ** -17 * unit.scale);
    expect(tf.memory().numTensors).toBe(before);
  }, 1_200_000); // SwiftShader on a loaded 2-core machine: minutes
});
