// Extra recordings of the official training step (testdata/fixtures-extra, see its README.md): batch 2 in every QS
// mode and batch 3, entropies that underflow at the deepest QS layer, non-square input, resnet_6blocks, other GAN
// modes, lambdas, nce_T, nce_idt off, num_patches above the deep layers' HW, other nce_layers lists,
// no_antialias(_up) and the n_layers discriminator. Each is replayed on wasm and must pass every row of the
// conformance table under SPEC's tolerances, judged against its float64 replay (float64/NAME.safetensors) where
// the recording has one, without leaking tensors.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { useBackend } from '../../../core/src/testing/harness';
import { TESTDATA } from '../testing/fixtures';
import { type ConformanceReport, runConformance } from './run-conformance';

const DIR = join(TESTDATA, 'fixtures-extra');
const names = readdirSync(DIR)
  .filter((f) => f.endsWith('.safetensors'))
  .map((f) => f.replace(/\.safetensors$/, ''))
  .sort();
const companion = (name: string): string => join(DIR, 'float64', `${name}.safetensors`);
const reports: ConformanceReport[] = [];

describe('extra official recordings, replayed (wasm)', () => {
  test('the recordings are there', () => {
    expect(names.length).toBeGreaterThanOrEqual(11);
    for (const mode of ['global', 'local', 'local_global']) expect(names.some((n) => n.startsWith(`${mode}_b2_`))).toBe(true);
    expect(names.some((n) => n.includes('_b3_'))).toBe(true);
  });

  test.each(names)('%s', async (name) => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const path = join(DIR, `${name}.safetensors`);
    const truth = existsSync(companion(name)) ? new Uint8Array(readFileSync(companion(name))) : undefined;
    const report = await runConformance(new Uint8Array(readFileSync(path)), path, { truth });
    reports.push(report);
    expect(report.rows.filter((r) => !r.ok), JSON.stringify(report.rows, null, 1)).toEqual([]);
    expect(report.rows.map((r) => r.group)).toEqual(expect.arrayContaining(['loss', 'out.fake_B', 'nceA.pool_k', 'nceA.grad_feat_k', 'grad.G', 'grad.F', 'after.G']));
    // Gradients are judged against a float64 replay only where the recording has one.
    if (truth === undefined) expect(report.rows.some((r) => r.judged === 'float64')).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
  });

  // Which recordings need their float64 replay, and which rectifier units lie on the other side of their kink,
  // depends on the rounding of our float32 kernels (a faster kernel summing in another order moves them): so
  // these check that the mechanisms are exercised and sound, not which recording exercises them.
  test('float64 replays are used: some float32-noise gradients are judged against them', () => {
    expect(reports.some((r) => r.rows.some((row) => row.judged === 'float64'))).toBe(true);
  });

  test('rectifier units within rounding of their kink are found, and any branch taken from them is named', () => {
    expect(reports.some((r) => r.branches.nearKinks > 0)).toBe(true);
    const flipped = reports.flatMap((r) => r.branches.flipped);
    for (const unit of flipped) {
      expect(unit.where).toMatch(/^(G|D|F)\(.*\):/);
      expect(Math.abs(unit.value)).toBeLessThanOrEqual(2 ** -17 * unit.scale);
    }
  });
});
