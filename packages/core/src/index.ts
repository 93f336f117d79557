// @qsattn/core: backend choice, exact PyTorch-semantics layers and their gradients, seeded init, weight I/O.
import './register';

export {
  BACKEND_NAMES,
  BackendError,
  describeBackendChoice,
  selectBackend,
  type BackendAttempt,
  type BackendChoice,
  type BackendName,
  type SelectBackendOptions,
} from './backend/select-backend';
export { configureWasmThreads, defaultWasmThreads, MAX_WASM_THREADS, wasmThreadsInUse } from './backend/wasm-threads';
export { activeBackend, automaticBackendChoice, ensureBackend, requireBackend } from './backend/ensure-backend';
export { synchronousReads, type SynchronousReads } from './backend/readback';
export { describeAdapter, findWebGpuAdapter, formatAdapter, provideNavigatorGpu, type WebGpuAdapterInfo } from './backend/webgpu-adapter';

export { conv2d, type Conv2dOptions } from './ops/conv2d';
export { convTranspose2d, convTranspose2dOutputSize, type ConvTranspose2dOptions } from './ops/conv-transpose2d';
export { depthwiseConvTranspose2d, type DepthwiseConvTranspose2dOptions } from './ops/depthwise-conv-transpose2d';
export { reflectionPad } from './ops/reflection-pad';
export { replicationPad } from './ops/replication-pad';
export { instanceNorm } from './ops/instance-norm';
export {
  blurFilter,
  blurKernel,
  downsample,
  upsample,
  type DownsampleOptions,
  type UpsampleOptions,
} from './ops/blur';
export { linear } from './ops/linear';
export { leakyRelu } from './ops/activations';
export { l2Normalize } from './ops/l2-normalize';
export type { Pair, Padding2d } from './ops/pair';

export { Rng, type RngState } from './init/rng';
export {
  INIT_TYPES,
  initWeight,
  kaimingNormal,
  normal,
  orthogonal,
  torchFans,
  xavierNormal,
  type InitScheme,
} from './init/initializers';

export { TorchParameters, type ParamLayout, type ParamSpec } from './params/parameters';

export { WeightFileError } from './io/errors';
export { writeFileAtomic } from './io/node-files';
export {
  nchwToNhwc,
  nhwcToNchw,
  tfjsConvToTorch,
  tfjsConvTransposeToTorch,
  tfjsDepthwiseToTorch,
  tfjsLinearToTorch,
  torchConvToTfjs,
  torchConvTransposeToTfjs,
  torchDepthwiseToTfjs,
  torchLinearToTfjs,
} from './io/layout';
export { readSafetensors, writeSafetensors, type SafetensorsContents, type SafetensorsMetadata } from './io/safetensors';
export { readPth } from './io/pth';
export { RAW_DTYPES, type RawData, type RawDtype, type RawTensor, type RawTensorMap } from './io/raw-tensor';
export { rawToTensor, rawToTensors, tensorsToRaw } from './io/tensor-convert';
export { checkStateDictShapes, type Shaped } from './io/shape-check';
export {
  WEIGHT_FILE_FORMATS,
  detectWeightFormat,
  loadStateDict,
  readWeightFile,
  saveSafetensors,
  type LoadStateDictOptions,
  type WeightFileFormat,
} from './io/state-dict';
export {
  TFJS_WEIGHTS_MANIFEST,
  decodeTfjsWeights,
  encodeTfjsWeights,
  loadTfjsWeights,
  saveTfjsWeights,
  type TfjsWeightFiles,
  type TfjsWeightsJson,
} from './io/tfjs-weights';

export { TorchAdam, type AdamOptions, type AdamState } from './optim/adam';

export { registerWasmTrainingKernels, wasmTrainingKernels } from './kernels/wasm/register';
export { CONV2D_ROUTE_FLAG, releaseWinogradFilters, cachedWinogradFilters, takingGradient } from './kernels/wasm/winograd';
export { type InstanceNormOptions } from './ops/instance-norm';
