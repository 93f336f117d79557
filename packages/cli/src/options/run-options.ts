import { PRESET_NAMES, PRESETS, resolveModelOptions, type ModelOptions } from '@qsattn/cut-model';
import type { PreprocessMode, SynthOptions } from '@qsattn/data';
import { UsageError } from '../io';

/** How a run loads its data and keeps its books: the official run flags plus ours. */
export interface RunOptions {
  /** The dataset folder (trainA/ trainB/ testA/ …), or null for the built-in synthetic dataset, made in memory. */
  dataroot: string | null;
  direction: 'AtoB' | 'BtoA';
  name: string;
  checkpointsDir: string;
  batchSize: number;
  loadSize: number;
  cropSize: number;
  preprocess: PreprocessMode;
  flip: boolean;
  serialBatches: boolean;
  /** Images per domain at most (null: all). */
  maxDatasetSize: number | null;
  /** Keep a numbered checkpoint every this many epochs (`latest` is saved after every epoch). */
  saveEpochFreq: number;
  /** Save `latest` every this many training images as well. */
  saveLatestFreq: number;
  /** Print a progress line every this many training images (when stdout is not a terminal). */
  printFreq: number;
  /** Seeds weight init, patch sampling and the data loader. */
  seed: number;
}

export const RUN_DEFAULTS: Omit<RunOptions, 'name'> = {
  dataroot: null,
  direction: 'AtoB',
  checkpointsDir: './checkpoints',
  batchSize: 1,
  loadSize: 286,
  cropSize: 256,
  preprocess: 'resize_and_crop',
  flip: true,
  serialBatches: false,
  maxDatasetSize: null,
  saveEpochFreq: 5,
  saveLatestFreq: 5000,
  printFreq: 100,
  seed: 0,
};

/** Images per split of the built-in synthetic dataset (its images are made at the run's crop size). */
export const SYNTH_TRAIN_COUNT = 400;
export const SYNTH_TEST_COUNT = 50;
/** The built-in dataset is always the one drawn from this seed; `--seed` seeds the training, not the data. */
export const SYNTH_SEED = 0;

/** The synthetic dataset a run without `dataroot` trains and tests on. */
export function synthOptionsFor(run: Pick<RunOptions, 'cropSize' | 'maxDatasetSize'>): Required<SynthOptions> {
  return {
    seed: SYNTH_SEED,
    size: run.cropSize,
    trainCount: Math.min(SYNTH_TRAIN_COUNT, run.maxDatasetSize ?? Infinity),
    testCount: SYNTH_TEST_COUNT,
  };
}

export interface TrainPreset {
  description: string;
  model: Partial<ModelOptions>;
  run: Partial<RunOptions>;
}

/**
 * The default of `qsattn train` without `--dataroot`: a small QS-Attn (global) model sized for the built-in
 * 64-pixel dataset and a 2-core CPU on the wasm backend — 16 filters, 4 ResNet blocks, a 2-layer discriminator
 * (the 3-layer one overpowers this generator), 64 patches of 64 channels — trained for 6 epochs of 150 images
 * (4 at the initial rate, 2 of decay): 900 steps, about 7 minutes at 2–2.5 steps per second.
 */
const SYNTH_QUICK: TrainPreset = {
  description: 'small QS-Attn (global) model for the built-in 64-px dataset: 900 steps, about 7 minutes on 2 CPU cores',
  model: {
    qsMode: 'global',
    ngf: 16,
    ndf: 16,
    netG: 'resnet_4blocks',
    netD: 'n_layers',
    nLayersD: 2,
    numPatches: 64,
    netFNc: 64,
    nEpochs: 4,
    nEpochsDecay: 2,
  },
  run: { cropSize: 64, loadSize: 72, maxDatasetSize: 150, printFreq: 50, saveEpochFreq: 2 },
};

/** Presets of `--preset`: the official ones (model options only) and ours for the built-in dataset. */
export const TRAIN_PRESETS: Record<string, TrainPreset> = {
  ...Object.fromEntries(
    PRESET_NAMES.map((name) => [name, { description: `the official ${name} options`, model: PRESETS[name] as Partial<ModelOptions>, run: {} }]),
  ),
  'synth-quick': SYNTH_QUICK,
};
export const TRAIN_PRESET_NAMES = Object.keys(TRAIN_PRESETS);

/** Merges model options over the defaults, turning a bad value into a usage error. */
export function resolveModel(...layers: Partial<ModelOptions>[]): ModelOptions {
  try {
    return resolveModelOptions(...layers);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The default run name: the dataset folder's name, or `synth` for the built-in dataset. */
export function defaultRunName(dataroot: string | null): string {
  if (dataroot === null) return 'synth';
  const base = dataroot.replace(/[\\/]+$/, '').split(/[\\/]/).pop();
  return base === undefined || base === '' || base === '.' ? 'experiment_name' : base;
}

/** The whole description of a run, saved as `options.json` in its folder. */
export interface SavedRunOptions {
  format: typeof RUN_OPTIONS_FORMAT;
  preset: string | null;
  model: ModelOptions;
  run: RunOptions;
  /** The synthetic dataset the run uses (null with a dataroot). */
  synth: Required<SynthOptions> | null;
  /** The options given to `qsattn train` (command line and config file), by name. */
  given: Record<string, string | boolean>;
}

export const RUN_OPTIONS_FORMAT = 'qsattn-run/1';
