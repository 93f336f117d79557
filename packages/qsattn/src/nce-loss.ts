import * as tf from '@tensorflow/tfjs-core';
import type { ProjectionHead } from './mlp-head';
import { averageNceLoss, patchNceLoss } from './patch-nce';
import { keyPass, queryPass, type KeyPassOptions, type KeyPassResult } from './patch-sample';

export interface NceLossOptions extends KeyPassOptions {
  /** τ (`nce_T`). Default 0.07. */
  temperature?: number;
  /** λ_NCE. Default 1. */
  lambda?: number;
}

export interface NceLossResult {
  /** NCE(src, tgt): mean over layers of (mean over rows × λ). */
  loss: tf.Scalar;
  /** Per layer, the per-row PatchNCE losses `[B·n]`. */
  rowLosses: tf.Tensor1D[];
  /** The key pass: pooled key vectors and what each layer sampled. */
  keys: KeyPassResult;
  /** The pooled query vectors per layer. */
  queries: tf.Tensor2D[];
}

/**
 * NCE(src, tgt) of CUT / QS-Attn: the key pass on `featK` (the encoder's features of the source image),
 * the query pass on `featQ` (of its translation), and the PatchNCE loss per layer. Run it inside the
 * function given to `tf.grads` / `tf.variableGrads` / an optimizer's `minimize`: the gradient reaches the
 * query features, the head, and the source features through the key pass's attention.
 */
export function nceLoss(
  head: ProjectionHead,
  featK: readonly tf.Tensor4D[],
  featQ: readonly tf.Tensor4D[],
  options: NceLossOptions,
): NceLossResult {
  if (featK.length !== featQ.length) throw new Error(`featK has ${featK.length} layers but featQ has ${featQ.length}`);
  featK.forEach((k, layer) => {
    const q = featQ[layer];
    if (k.shape.some((d, i) => d !== q.shape[i])) {
      throw new Error(`layer ${layer}: featK [${k.shape.join(', ')}] and featQ [${q.shape.join(', ')}] differ in shape`);
    }
  });
  const keys = keyPass(head, featK, options);
  const queries = queryPass(head, featQ, keys.samples, { hiddenActivation: options.hiddenActivation });
  const batchSize = featK[0].shape[0];
  const rowLosses = queries.map((q, layer) => patchNceLoss(q, keys.pooled[layer], { batchSize, temperature: options.temperature }));
  const loss = averageNceLoss(rowLosses, { lambda: options.lambda });
  return { loss, rowLosses, keys, queries };
}
