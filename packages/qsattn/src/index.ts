// @qsattn/qsattn: QS-Attn (Hu et al., CVPR 2022) for TensorFlow.js — query selection (global, local,
// local-global), random patch sampling, the projection head with its key and query passes, and the PatchNCE
// loss, computing what the official PyTorch code computes. Features are NHWC.
export { QUERY_MODES, type QueryMode } from './query-mode';
export { LOCAL_LAYOUTS, type LocalLayout, type LocalWindowOptions } from './local-windows';
export { rowEntropy, softmaxEntropy } from './entropy';
export {
  lowestIds,
  queryEntropies,
  selectQueries,
  type QueryEntropyOptions,
  type SelectQueriesOptions,
} from './select-queries';
export { attendQueries, queryAttention, type QueryAttentionOptions } from './query-attention';
export { gatherPatches, randomPatchIds } from './sample-patches';
export { ProjectionHead, type ProjectionHeadOptions } from './mlp-head';
export {
  defaultQsLayers,
  keyPass,
  queryPass,
  type HiddenActivation,
  type KeyPassOptions,
  type KeyPassResult,
  type LayerSample,
  type PatchIdSource,
  type QueryAttentionSample,
} from './patch-sample';
export { averageNceLoss, patchNceLoss, type NceAverageOptions, type PatchNceOptions } from './patch-nce';
export { nceLoss, type NceLossOptions, type NceLossResult } from './nce-loss';
export { stopGradient, withoutTape } from './no-grad';
export { toTokens } from './tokens';
