import type { InitScheme } from '@qsattn/core';
import type { GanMode } from './gan-loss';

/** QS-Attn's query selection modes; `null` is plain CUT (random patches on every NCE layer). */
export const QS_MODES = ['global', 'local', 'local_global'] as const;
export type QsMode = (typeof QS_MODES)[number];

export const GENERATOR_NAMES = ['resnet_9blocks', 'resnet_6blocks', 'resnet_4blocks'] as const;
export type GeneratorName = (typeof GENERATOR_NAMES)[number];

export const DISCRIMINATOR_NAMES = ['basic', 'n_layers'] as const;
export type DiscriminatorName = (typeof DISCRIMINATOR_NAMES)[number];

/** Everything that defines the model and its training step; names follow the official flags in camelCase. */
export interface ModelOptions {
  /** `null`: CUT / FastCUT (random sampling everywhere). */
  qsMode: QsMode | null;
  inputNc: number;
  outputNc: number;
  ngf: number;
  ndf: number;
  netG: GeneratorName;
  netD: DiscriminatorName;
  /** Strided stages of the `n_layers` discriminator (`basic` is 3). */
  nLayersD: number;
  /** `--no_antialias` negated. */
  antialias: boolean;
  /** `--no_antialias_up` negated. */
  antialiasUp: boolean;
  init: InitScheme;
  ganMode: GanMode;
  lambdaGAN: number;
  lambdaNCE: number;
  nceIdt: boolean;
  nceLayers: number[];
  nceT: number;
  numPatches: number;
  netFNc: number;
  flipEquivariance: boolean;
  lr: number;
  beta1: number;
  beta2: number;
  /** Epochs at the initial learning rate, then epochs of linear decay to zero. */
  nEpochs: number;
  nEpochsDecay: number;
  /** The epoch a run starts counting from (1 for a new run). */
  epochCount: number;
  /**
   * Reproduce the gradients of the official code run by PyTorch 1.13 on the CPU at batch size 1, where a kernel
   * bug (instance norm's backward misreads channels-last gradients) alters the generator's NCE gradients. Off by
   * default: training then follows the true gradient. The conformance check turns it on to match recordings.
   */
  torchCpuCompat: boolean;
}

export const DEFAULT_MODEL_OPTIONS: ModelOptions = {
  qsMode: 'global',
  inputNc: 3,
  outputNc: 3,
  ngf: 64,
  ndf: 64,
  netG: 'resnet_9blocks',
  netD: 'basic',
  nLayersD: 3,
  antialias: true,
  antialiasUp: true,
  init: { type: 'xavier', gain: 0.02 },
  ganMode: 'lsgan',
  lambdaGAN: 1,
  lambdaNCE: 1,
  nceIdt: true,
  nceLayers: [0, 4, 8, 12, 16],
  nceT: 0.07,
  numPatches: 256,
  netFNc: 256,
  flipEquivariance: false,
  lr: 0.0002,
  beta1: 0.5,
  beta2: 0.999,
  nEpochs: 200,
  nEpochsDecay: 200,
  epochCount: 1,
  torchCpuCompat: false,
};

/** The official presets, as data. */
export const PRESETS = {
  cut: { qsMode: null, nceIdt: true, lambdaNCE: 1 },
  fastcut: { qsMode: null, nceIdt: false, lambdaNCE: 10, flipEquivariance: true, nEpochs: 150, nEpochsDecay: 50 },
  'qs-global': { qsMode: 'global', nceIdt: true, lambdaNCE: 1 },
  'qs-local': { qsMode: 'local', nceIdt: true, lambdaNCE: 1 },
  'qs-local-global': { qsMode: 'local_global', nceIdt: true, lambdaNCE: 1 },
} as const satisfies Record<string, Partial<ModelOptions>>;
export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

export function presetOptions(name: string): Partial<ModelOptions> {
  if (!(name in PRESETS)) throw new Error(`unknown preset '${name}': choose one of ${PRESET_NAMES.join(', ')}`);
  return PRESETS[name as PresetName] as Partial<ModelOptions>;
}

/** Blocks of the named ResNet generator. */
export function generatorBlocks(netG: GeneratorName): number {
  return { resnet_9blocks: 9, resnet_6blocks: 6, resnet_4blocks: 4 }[netG];
}

/**
 * Merges options over the defaults and checks them: each bad value is an error naming the option and what
 * it accepts.
 */
export function resolveModelOptions(...layers: Partial<ModelOptions>[]): ModelOptions {
  const o: ModelOptions = Object.assign({}, DEFAULT_MODEL_OPTIONS, ...layers);
  const positiveInt = (name: keyof ModelOptions): void => {
    const v = o[name] as number;
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  };
  (['inputNc', 'outputNc', 'ngf', 'ndf', 'nLayersD', 'numPatches', 'netFNc', 'epochCount'] as const).forEach(positiveInt);
  if (!Number.isInteger(o.nEpochs) || o.nEpochs < 0) throw new RangeError(`nEpochs must be a non-negative integer, got ${o.nEpochs}`);
  if (!Number.isInteger(o.nEpochsDecay) || o.nEpochsDecay < 0) {
    throw new RangeError(`nEpochsDecay must be a non-negative integer, got ${o.nEpochsDecay}`);
  }
  if (o.qsMode !== null && !(QS_MODES as readonly string[]).includes(o.qsMode)) {
    throw new Error(`unknown QS mode '${o.qsMode}': choose one of ${QS_MODES.join(', ')} (or none for CUT)`);
  }
  if (!(GENERATOR_NAMES as readonly string[]).includes(o.netG)) {
    throw new Error(`unknown generator '${o.netG}': choose one of ${GENERATOR_NAMES.join(', ')}`);
  }
  if (!(DISCRIMINATOR_NAMES as readonly string[]).includes(o.netD)) {
    throw new Error(`unknown discriminator '${o.netD}': choose one of ${DISCRIMINATOR_NAMES.join(', ')}`);
  }
  if (o.nceLayers.length === 0 || o.nceLayers.some((l) => !Number.isInteger(l) || l < 0)) {
    throw new RangeError(`nceLayers must be a non-empty list of generator layer indices, got ${JSON.stringify(o.nceLayers)}`);
  }
  for (const name of ['lr', 'beta1', 'beta2', 'nceT', 'lambdaGAN', 'lambdaNCE'] as const) {
    if (!Number.isFinite(o[name]) || o[name] < 0) throw new RangeError(`${name} must be a non-negative number, got ${o[name]}`);
  }
  return o;
}

/**
 * The official `linear` policy: the learning-rate factor after `epochsDone` epochs (the value `LambdaLR`
 * gives once `scheduler.step()` has run that many times): `1 − max(0, e + epoch_count − n_epochs) / (n_epochs_decay + 1)`.
 */
export function linearLrFactor(epochsDone: number, o: Pick<ModelOptions, 'epochCount' | 'nEpochs' | 'nEpochsDecay'>): number {
  return 1 - Math.max(0, epochsDone + o.epochCount - o.nEpochs) / (o.nEpochsDecay + 1);
}
