// @qsattn/fid: FID and KID as pytorch-fid and torch-fidelity compute them.
export { FidError } from './errors';
export {
  BLOCK_INDEX_BY_DIM,
  FID_DIMS,
  FID_WEIGHTS_FILE,
  FID_WEIGHTS_URL,
  FidInceptionV3,
  INCEPTION_INPUT_SIZE,
  checkInceptionStateDict,
  isFidDims,
  type FeatureOptions,
  type FidDims,
} from './inception';
export { inceptionTensorShapes } from './inception-layout';
export { extractFeatures, type ExtractOptions, type ExtractProgress, type FeatureSet, type RgbImage } from './extract';
export {
  SQRTM_DIMS_LIMIT,
  featureStatistics,
  frechetDistance,
  frechetDistanceOfFeatures,
  type FeatureFrechetResult,
  type FeatureStatistics,
  type FrechetMethod,
  type FrechetOptions,
  type FrechetResult,
} from './frechet';
export { kernelInceptionDistance, type KidOptions, type KidResult } from './kid';
export { NumpyRandomState } from './mt19937';
export { analyseSqrtm, matmul, sqrtm, squareMatrix, type SqrtmAnalysis, type SquareMatrix } from './sqrtm';
export { readNpz, writeNpz, type NpyArray } from './npz';
