// The two passes of `PatchSampleF`. The key pass (source image's features) chooses, per NCE layer, what to
// sample: random positions, or — on the QS layers — the lowest-entropy queries and their attention. The
// query pass (translated image's features) reuses those choices and chooses nothing.
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@qsattn/core';
import type { LocalWindowOptions } from './local-windows';
import type { ProjectionHead } from './mlp-head';
import { attendQueries, queryAttention } from './query-attention';
import { checkQueryMode, type QueryMode } from './query-mode';
import { gatherPatches, randomPatchIds } from './sample-patches';
import { selectQueries } from './select-queries';
import { checkIdsPerImage } from './tokens';

/**
 * Where the random layers' patch ids come from: a seeded `Rng` (one permutation per random layer, in layer
 * order), or given ids indexed by NCE layer (e.g. recorded ones; QS layers' entries are ignored).
 */
export type PatchIdSource = Rng | readonly (ArrayLike<number> | undefined)[];

/** The official rule: the fourth and later NCE layers are QS layers (`feat_id >= 3`). */
export function defaultQsLayers(numLayers: number): number[] {
  return Array.from({ length: Math.max(0, numLayers - 3) }, (_, i) => i + 3);
}

/**
 * Replaces the projection head's ReLU (`ProjectionHead.project`'s `rectify`) in a key or query pass, e.g. to
 * instrument it; `layer` is the NCE layer.
 */
export type HiddenActivation = (layer: number, pass: 'key' | 'query', hidden: tf.Tensor2D) => tf.Tensor2D;

export interface KeyPassOptions {
  /** Patches (random layers) and queries (QS layers) per image; at most H·W are taken. */
  numPatches: number;
  /** How QS layers select and weigh their queries. */
  mode: QueryMode;
  /** Indices (into the NCE layer list) of the QS layers; the others sample at random. Default `defaultQsLayers`. Plain CUT: `[]`. */
  qsLayers?: readonly number[];
  /** The neighbourhood of `local` and `local_global` modes (layout: official code or paper; window size). */
  local?: LocalWindowOptions;
  /** Rows of attention per block while selecting (see `selectQueries`). */
  selectionBlockSize?: number;
  patchIds: PatchIdSource;
  /**
   * Given selections for QS layers, indexed by NCE layer, one id list per image, instead of selecting
   * (e.g. to replay a recorded order, which matters in the official `local` reading).
   */
  queryIds?: readonly (readonly ArrayLike<number>[] | undefined)[];
  /** The head's ReLU, replaced (see `HiddenActivation`); the query pass takes it too. */
  hiddenActivation?: HiddenActivation;
}

export interface QueryAttentionSample {
  kind: 'query';
  /** The selected positions, per image, in selection order. */
  ids: Int32Array[];
  /** Their attention, in the autodiff graph (not detached): see `queryAttention` for its shape. */
  attn: tf.Tensor3D;
  mode: QueryMode;
  local?: LocalWindowOptions;
}

export type LayerSample = { kind: 'random'; ids: Int32Array } | QueryAttentionSample;

export interface KeyPassResult {
  /** Projected, normalised key vectors per layer, `[B·n, nc]`. Not detached: the loss detaches them. */
  pooled: tf.Tensor2D[];
  /** What each layer sampled, for the query pass. */
  samples: LayerSample[];
}

function checkLayerCount(head: ProjectionHead, feats: readonly tf.Tensor4D[]): void {
  if (feats.length !== head.numLayers) {
    throw new Error(`got features of ${feats.length} layer(s) for a projection head of ${head.numLayers}`);
  }
}

export function keyPass(head: ProjectionHead, feats: readonly tf.Tensor4D[], options: KeyPassOptions): KeyPassResult {
  checkLayerCount(head, feats);
  const { numPatches, mode, patchIds } = options;
  checkQueryMode(mode);
  if (!Number.isInteger(numPatches) || numPatches <= 0) throw new Error(`numPatches must be a positive integer, got ${numPatches}`);
  const qsLayers = new Set(options.qsLayers ?? defaultQsLayers(feats.length));
  for (const layer of qsLayers) {
    if (!Number.isInteger(layer) || layer < 0 || layer >= feats.length) {
      throw new Error(`qsLayers entry ${layer} is not a layer index in [0, ${feats.length})`);
    }
  }
  const pooled: tf.Tensor2D[] = [];
  const samples: LayerSample[] = [];
  const activation = options.hiddenActivation;
  feats.forEach((feat, layer) => {
    const rectify = activation && ((hidden: tf.Tensor2D) => activation(layer, 'key', hidden));
    const [batch, height, width] = feat.shape;
    if (qsLayers.has(layer)) {
      const given = options.queryIds?.[layer];
      let ids: Int32Array[];
      if (given != null) {
        checkIdsPerImage(given, batch, height * width, `queryIds[${layer}]`);
        ids = given.map((list) => Int32Array.from(list));
      } else {
        ids = selectQueries(feat, { mode, numQueries: numPatches, local: options.local, blockSize: options.selectionBlockSize });
      }
      const sample: QueryAttentionSample = { kind: 'query', ids, mode, local: options.local, attn: queryAttention(feat, ids, { mode, local: options.local }) };
      samples.push(sample);
      pooled.push(tf.tidy(() => head.project(layer, attendQueries(feat, sample.attn, ids, sample), rectify)));
    } else {
      let ids: Int32Array;
      if (patchIds instanceof Rng) {
        ids = randomPatchIds(height * width, numPatches, patchIds);
      } else {
        const given = patchIds[layer];
        if (given == null) throw new Error(`patchIds has no ids for random layer ${layer}`);
        ids = Int32Array.from(given);
      }
      samples.push({ kind: 'random', ids });
      pooled.push(tf.tidy(() => head.project(layer, gatherPatches(feat, ids), rectify)));
    }
  });
  return { pooled, samples };
}

/** Projects the translated image's features at the key pass's choices: `[B·n, nc]` per layer. */
export function queryPass(
  head: ProjectionHead,
  feats: readonly tf.Tensor4D[],
  samples: readonly LayerSample[],
  { hiddenActivation }: { hiddenActivation?: HiddenActivation } = {},
): tf.Tensor2D[] {
  checkLayerCount(head, feats);
  if (samples.length !== feats.length) throw new Error(`got ${samples.length} key samples for ${feats.length} layer(s)`);
  return feats.map((feat, layer) =>
    tf.tidy(() => {
      const sample = samples[layer];
      const x = sample.kind === 'random' ? gatherPatches(feat, sample.ids) : attendQueries(feat, sample.attn, sample.ids, sample);
      return head.project(layer, x, hiddenActivation && ((hidden) => hiddenActivation(layer, 'query', hidden)));
    }),
  );
}
