// Conformance to the official recordings: one QS-Attn training step per mode (ngf 8, nc 64, 64 patches,
// 64×64, NCE layers 0,4,8,12,16 of which the last two are QS layers). The recorded encoder features are fed
// in directly, so this checks the head, sampling, selection, attention and loss, and their gradients.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, test } from 'vitest';
import { useBackend, type TestBackend } from '../../core/src/testing/harness';
import { ProjectionHead } from './mlp-head';
import { nceLoss } from './nce-loss';
import type { QueryMode } from './query-mode';
import { selectQueries } from './select-queries';
import { residualBlocks } from './testing/residual-blocks';
import { deviation, forwardWithin, loadQsFixture, nhwcToNchw, type QsFixture } from './testing/fixture';

const LAYERS = [0, 1, 2, 3, 4];
const QS_LAYERS = [3, 4];
const PASSES = [
  { prefix: 'nceA', firstPerm: 0, loss: 'loss.NCE' },
  { prefix: 'nceB', firstPerm: 3, loss: 'loss.NCE_Y' },
] as const;

// Worst deviations seen per quantity, printed at the end (forward: relative; gradients: of the tensor's scale).
const worst = new Map<string, number>();
let running = '';
function note(group: string, value: number): void {
  const key = `${running} ${group}`;
  worst.set(key, Math.max(worst.get(key) ?? 0, value));
}
afterAll(() => {
  console.log([...worst].map(([group, value]) => `${group}: ${value.toExponential(2)}`).join('\n'));
});

function expectForward(group: string, actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  const d = deviation(actual, expected);
  note(`${group} max abs`, d.maxAbs);
  expect(forwardWithin(actual, expected), `${group}: max abs ${d.maxAbs}, max rel ${d.maxRel}`).toBe(true);
}

function expectGradient(group: string, actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  const d = deviation(actual, expected);
  note(`${group} (of max)`, d.maxOfScale);
  expect(d.maxOfScale, `${group}: max abs ${d.maxAbs}`).toBeLessThanOrEqual(1e-3);
}

/** Rows of `matrix` ([rows, width], flat). */
function rowsOf(matrix: ArrayLike<number>, width: number): Float32Array[] {
  return Array.from({ length: matrix.length / width }, (_, r) => Float32Array.from(Array.prototype.slice.call(matrix, r * width, (r + 1) * width)));
}

/** For each recorded row, the index of our row closest to it; fails unless this pairs the rows one to one. */
function matchRows(ours: Float32Array[], recorded: Float32Array[]): number[] {
  const match = recorded.map((row) => {
    let best = -1;
    let bestDiff = Infinity;
    ours.forEach((candidate, j) => {
      const diff = deviation(candidate, row).maxAbs;
      if (diff < bestDiff) [best, bestDiff] = [j, diff];
    });
    return best;
  });
  expect(new Set(match).size).toBe(recorded.length);
  return match;
}

interface PassResult {
  loss: number;
  pooledK: Float32Array[];
  pooledQ: Float32Array[];
  rowLosses: Float32Array[];
  attn: Map<number, Float32Array>;
  ids: Int32Array[][];
  gradFeatK: Float32Array[];
  gradHead: Map<string, Float32Array>;
}

/** One NCE pass on the recorded features, with the gradients of 0.5 × its loss (its share of loss_G). */
async function runPass(fx: QsFixture, head: ProjectionHead, mode: QueryMode, pass: (typeof PASSES)[number]): Promise<PassResult> {
  const featK = LAYERS.map((l) => tf.tidy(() => tf.variable(fx.featureNhwc(`${pass.prefix}.feat_k.${l}`))));
  const featQ = LAYERS.map((l) => fx.featureNhwc(`${pass.prefix}.feat_q.${l}`));
  const patchIds = [0, 1, 2].map((i) => fx.ids(`perm.${pass.firstPerm + i}`));
  // Local mode's values depend on the selection order, which the official unstable sort leaves open on
  // ties: replay the recorded order once our selection is shown to be the same set.
  let queryIds: (Int32Array[] | undefined)[] | undefined;
  if (mode === 'local') {
    queryIds = LAYERS.map((l) => (QS_LAYERS.includes(l) ? [fx.ids(`${pass.prefix}.ids.${l}`)] : undefined));
    for (const l of QS_LAYERS) {
      const [ours] = selectQueries(featK[l] as unknown as tf.Tensor4D, { mode, numQueries: 64 });
      expect([...ours].sort((a, b) => a - b)).toEqual([...queryIds[l]![0]].sort((a, b) => a - b));
    }
  }
  const named = head.namedVariables();
  let kept: tf.Tensor[] = [];
  let ids: Int32Array[][] = [];
  const { value, grads } = tf.variableGrads(() => {
    const result = nceLoss(head, featK as unknown as tf.Tensor4D[], featQ, { mode, numPatches: 64, patchIds, queryIds });
    ids = result.keys.samples.map((s) => (s.kind === 'random' ? [s.ids] : s.ids));
    kept = [
      ...result.keys.pooled,
      ...result.queries,
      ...result.rowLosses,
      ...QS_LAYERS.map((l) => {
        const sample = result.keys.samples[l];
        if (sample.kind !== 'query') throw new Error(`layer ${l} should be a QS layer`);
        return sample.attn;
      }),
    ].map((t) => tf.keep(t));
    return tf.mul(result.loss, 0.5) as tf.Scalar;
  }, [...featK, ...head.variables]);
  const data = kept.map((t) => t.dataSync() as Float32Array);
  // No gradient at all reaches the random layers' source features (their keys are detached).
  const gradFeatK = featK.map((v) =>
    grads[v.name] == null ? new Float32Array(v.size) : tf.tidy(() => nhwcToNchw(grads[v.name]).dataSync() as Float32Array),
  );
  const gradHead = new Map<string, Float32Array>();
  for (const [name, variable] of Object.entries(named)) {
    const g = grads[variable.name];
    gradHead.set(name, tf.tidy(() => (name.endsWith('.weight') ? tf.transpose(g) : g).dataSync() as Float32Array));
  }
  const result: PassResult = {
    loss: 2 * value.dataSync()[0],
    pooledK: data.slice(0, 5),
    pooledQ: data.slice(5, 10),
    rowLosses: data.slice(10, 15),
    attn: new Map(QS_LAYERS.map((l, i) => [l, data[15 + i]])),
    ids,
    gradFeatK,
    gradHead,
  };
  tf.dispose([value, ...Object.values(grads), ...kept, ...featK, ...featQ]);
  return result;
}

function checkPass(fx: QsFixture, mode: QueryMode, pass: (typeof PASSES)[number], ours: PassResult): void {
  const p = pass.prefix;
  expectForward('loss.NCE', [ours.loss], fx.values(pass.loss));
  for (const l of LAYERS) {
    const recordedK = fx.values(`${p}.pool_k.${l}`);
    const nc = fx.raw(`${p}.pool_k.${l}`).shape[1];
    // Rows of QS layers may come out of the official sort in another order: pair them by attention row.
    let order = Array.from({ length: 64 }, (_, i) => i);
    if (QS_LAYERS.includes(l)) {
      const attnName = `${p}.attn.${l}`;
      const width = fx.raw(attnName).shape[2];
      const recordedAttn = rowsOf(fx.values(attnName), width);
      const ourAttn = rowsOf(ours.attn.get(l)!, width);
      if (mode !== 'local') order = matchRows(ourAttn, recordedAttn);
      else expect(ours.ids[l][0]).toEqual(fx.ids(`${p}.ids.${l}`));
      expectForward('attn', order.flatMap((j) => [...ourAttn[j]]), fx.values(attnName));
    } else {
      expect(ours.ids[l][0]).toEqual(fx.ids(`${p}.ids.${l}`));
    }
    const reorder = (m: Float32Array, width: number): number[] => order.flatMap((j) => [...m.subarray(j * width, (j + 1) * width)]);
    expectForward('pool_k', reorder(ours.pooledK[l], nc), recordedK);
    expectForward('pool_q', reorder(ours.pooledQ[l], nc), fx.values(`${p}.pool_q.${l}`));
    expectForward('loss rows', reorder(ours.rowLosses[l], 1), fx.values(`${p}.loss.${l}`));
  }
  checkFeatureGradients(fx, mode, pass, ours);
}

/**
 * The recorded `grad_feat_k.l` are total derivatives in the official encoder (feature l also feeds the
 * later NCE layers); ours are partial (each layer an independent input). The last layer's are the same.
 * Layer 3's total adds what flows back from layer 4 through generator blocks 13–16. The random layers'
 * partials are exactly 0 (their keys are detached): their totals are the encoder's business alone.
 *
 * Layer 3 is asserted only where the recording is self-consistent. In the global and local_global
 * recordings, grad_feat_k.2 is not the encoder's vector-Jacobian product of grad_feat_k.3 (cosine ≈ 0.14,
 * while layers 1←2 agree exactly, and in the local recording 2←3 agrees exactly), so there grad_feat_k.3
 * is not the total gradient at that tensor. Global's still matches (its layer-4 gradient is ~1e-30, so the
 * chain adds nothing); local_global's, which has a real layer-4 gradient, is only reported.
 */
function checkFeatureGradients(fx: QsFixture, mode: QueryMode, pass: (typeof PASSES)[number], ours: PassResult): void {
  const p = pass.prefix;
  expectGradient('grad_feat_k.4', ours.gradFeatK[4], fx.values(`${p}.grad_feat_k.4`));
  const throughBlocks = tf.tidy(() => {
    const blocks = residualBlocks(fx, [13, 14, 15, 16]);
    const upstream = tf.tensor(ours.gradFeatK[4], fx.raw(`${p}.feat_k.4`).shape);
    const feat3 = fx.featureNhwc(`${p}.feat_k.3`);
    const [g] = tf.grads((x: tf.Tensor) => tf.sum(tf.mul(nhwcToNchw(blocks(x as tf.Tensor4D)), upstream)))([feat3]);
    return nhwcToNchw(g).dataSync() as Float32Array;
  });
  const total3 = ours.gradFeatK[3].map((v, i) => v + throughBlocks[i]);
  if (mode === 'local_global') {
    note('grad_feat_k.3 local_global, not asserted (of max)', deviation(total3, fx.values(`${p}.grad_feat_k.3`)).maxOfScale);
  } else {
    expectGradient('grad_feat_k.3', total3, fx.values(`${p}.grad_feat_k.3`));
  }
  for (const l of [0, 1, 2]) expect(ours.gradFeatK[l].every((v) => v === 0)).toBe(true);
  expect(fx.values(`${p}.grad_feat_k.0`).every((v) => v === 0)).toBe(true);
}

function conformance(mode: QueryMode, backend: TestBackend): void {
  test(`${mode} on ${backend}: both NCE passes, losses and gradients match the official step`, async () => {
    await useBackend(backend);
    running = `${mode}/${backend}`;
    const fx = loadQsFixture(mode);
    expect(fx.metadata.mode).toBe(mode);
    const initial = fx.group('init.F.');
    const head = ProjectionHead.fromTorch(initial);
    tf.dispose(Object.values(initial));
    const before = tf.memory().numTensors;
    const results = [];
    for (const pass of PASSES) {
      const ours = await runPass(fx, head, mode, pass);
      checkPass(fx, mode, pass, ours);
      results.push(ours);
    }
    for (const name of Object.keys(head.namedVariables())) {
      const [a, b] = results.map((r) => r.gradHead.get(name)!);
      expectGradient('grad.F', a.map((v, i) => v + b[i]), fx.values(`grad.F.${name}`));
    }
    expect(tf.memory().numTensors).toBe(before);
    head.dispose();
  });
}

describe('official QS-Attn fixtures', () => {
  for (const mode of ['global', 'local', 'local_global'] as const) conformance(mode, 'wasm');
  conformance('local_global', 'cpu');
});
