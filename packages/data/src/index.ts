// @qsattn/data: unpaired image datasets for CUT / QS-Attn (Node: image folders through sharp), the seeded
// prefetching loader, and the built-in synthetic dataset with its measures.
export * from './synth/index';
export * from './download/index';

export { resizeBicubic } from './pil-resize';
export {
  IMAGE_EXTENSIONS,
  decodeImage,
  decodeImageFile,
  encodePng,
  readImageHeader,
  writePng,
  type ImageHeader,
} from './decode';
export { listImageFiles } from './image-folder';
export {
  PREPROCESS_MODES,
  applyTransform,
  planTransform,
  resizedSize,
  type PreprocessMode,
  type PreprocessOptions,
  type Size,
  type TransformPlan,
} from './preprocess';
export {
  UnalignedDataset,
  openUnalignedDataset,
  unalignedDatasetFromImages,
  type Domain,
  type FolderDatasetOptions,
  type ImageEntry,
  type NamedImage,
  type Phase,
  type ResolvedDatasetOptions,
  type SampleOptions,
  type SamplePlan,
  type SkippedImage,
  type UnalignedDatasetOptions,
  type UnalignedSample,
} from './unaligned-dataset';
export {
  UnalignedLoader,
  type UnalignedBatch,
  type UnalignedLoaderOptions,
  type UnalignedLoaderState,
} from './loader';
export {
  SYNTH_FOLDERS,
  writeSynthDataset,
  type SynthFolder,
  type WriteSynthOptions,
  type WriteSynthProgress,
  type WriteSynthResult,
} from './synth/write-synth-dataset';
