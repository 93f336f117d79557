// @qsattn/data/synth: the synthetic dataset in memory, its measures and the image metrics. No Node-only
// modules, so it also runs in browsers.
export {
  insideObject,
  randomScene,
  renderScene,
  sceneMask,
  stripePeriod,
  STRIPE_DARK,
  STRIPE_LIGHT,
  type SynthScene,
  type SynthShape,
  type SynthStyle,
} from './scene';
export { synthDataset, resolveSynthOptions, type SynthDataset, type SynthImage, type SynthOptions } from './synth-dataset';
export { compareWithTarget, contentKept, domainChanged, objectMask, type TargetMeasures } from './measures';
export { psnr, ssim } from '../metrics';
export { toUnitImage, type ImageInput, type UnitImage } from '../image-input';
export {
  cropImage,
  flipHorizontal,
  rgbToGray,
  toByteImage,
  toFloatImage,
  type ByteImage,
  type ChannelCount,
  type FloatImage,
} from '../image';
export { DatasetError, type DatasetErrorCode } from '../errors';
