// @qsattn/cut-model: CUT, FastCUT and QS-Attn in TensorFlow.js — the ResNet generator and PatchGAN with the
// official layer indices and weight names, GAN losses, the official training step, the linear LR policy,
// presets, and the conformance check against recorded official steps.
export { CutModel, discriminatorOptions, disposeStepRecord, generatorOptions, type CutModelInit, type NceRecord, type StepChoices, type StepLosses, type StepRecord } from './cut-model';
export { ResnetGenerator, resnetGeneratorLayers, DEFAULT_INIT, type GeneratorRun, type ResnetGeneratorOptions } from './resnet-generator';
export { PatchGan, patchGanLayers, type PatchGanOptions } from './patchgan';
export {
  applyLayer,
  biasesCancelledByNorm,
  layerParams,
  normsReachedByChannelsLastGrad,
  officialTapLayers,
  sequentialParams,
  SequentialNetwork,
  type BuggyNorms,
  type LayerSpec,
} from './layer-spec';
export { GAN_MODES, ganLoss, type GanMode } from './gan-loss';
export { namedGrads } from './named-grads';
export {
  DEFAULT_MODEL_OPTIONS,
  DISCRIMINATOR_NAMES,
  GENERATOR_NAMES,
  PRESET_NAMES,
  PRESETS,
  QS_MODES,
  generatorBlocks,
  linearLrFactor,
  presetOptions,
  resolveModelOptions,
  type DiscriminatorName,
  type GeneratorName,
  type ModelOptions,
  type PresetName,
  type QsMode,
} from './options';
export { parseOfficialArgs, type OfficialArgs, type RunFlags } from './official-args';
export { runConformance, type ConformanceReport, type ConformanceRow } from './conformance/run-conformance';
export { compareAfterStep, compareGradient, compareValues, type Comparison } from './conformance/tolerances';
export {
  CHECKPOINT_FORMAT,
  CheckpointError,
  loadCheckpoint,
  modelState,
  parseCheckpointInfo,
  readCheckpointInfo,
  restoreCheckpoint,
  restoreModelState,
  saveCheckpoint,
  type CheckpointInfo,
  type RestoredCheckpoint,
} from './checkpoint';
