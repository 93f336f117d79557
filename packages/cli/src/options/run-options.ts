import { PRESET_NAMES, PRESETS, resolveModelOptions, type ModelOptions } from '@qsattn/cut-model';
import { PREPROCESS_MODES, type PreprocessMode, type SynthOptions } from '@qsattn/data';
import { InputError, UsageError } from '../io';

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
  /** Leave out images that cannot be read (when the dataset opens, and batches whose image fails mid-run). */
  skipBadImages: boolean;
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
  skipBadImages: false,
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
 * (4 at the initial rate, 2 of decay): 900 steps. PatchNCE reads layers 0, 4, 8 and 12, so QS-Attn selects its
 * queries at layer 12 (it selects from the fourth NCE layer on; the first three sample at random): the official
 * 0,4,8,12,16 is the 9-block generator's (16 is its fifth block); in the 4-block one, 16 is the first upsampling
 * layer, past the encoder, and the fifth layer cost about a third of each step (four more passes through the
 * blocks and a second attention) without better translations (README: the main job).
 */
const SYNTH_QUICK: TrainPreset = {
  description: 'small QS-Attn (global) model for the built-in 64-px dataset: 900 steps, about 3 minutes on 2 idle CPU cores',
  model: {
    qsMode: 'global',
    ngf: 16,
    ndf: 16,
    netG: 'resnet_4blocks',
    netD: 'n_layers',
    nLayersD: 2,
    nceLayers: [0, 4, 8, 12],
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

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown, min: number): boolean => Number.isSafeInteger(v) && (v as number) >= min;

/** What each run option must be, to tell a damaged or hand-edited options.json from a good one. */
const RUN_OPTION_CHECKS: Record<keyof RunOptions, [string, (v: unknown) => boolean]> = {
  dataroot: ['a folder or null', (v) => v === null || (typeof v === 'string' && v !== '')],
  direction: ['AtoB or BtoA', (v) => v === 'AtoB' || v === 'BtoA'],
  name: ['a name', (v) => typeof v === 'string' && v !== ''],
  checkpointsDir: ['a folder', (v) => typeof v === 'string' && v !== ''],
  batchSize: ['an integer ≥ 1', (v) => isInt(v, 1)],
  loadSize: ['an integer ≥ 1', (v) => isInt(v, 1)],
  cropSize: ['an integer ≥ 1', (v) => isInt(v, 1)],
  preprocess: [PREPROCESS_MODES.join(', '), (v) => (PREPROCESS_MODES as readonly unknown[]).includes(v)],
  flip: ['true or false', (v) => typeof v === 'boolean'],
  serialBatches: ['true or false', (v) => typeof v === 'boolean'],
  maxDatasetSize: ['an integer ≥ 1 or null', (v) => v === null || isInt(v, 1)],
  saveEpochFreq: ['an integer ≥ 1', (v) => isInt(v, 1)],
  saveLatestFreq: ['an integer ≥ 1', (v) => isInt(v, 1)],
  printFreq: ['an integer ≥ 1', (v) => isInt(v, 1)],
  seed: ['an integer', (v) => Number.isSafeInteger(v)],
  skipBadImages: ['true or false', (v) => typeof v === 'boolean'],
};

/**
 * Parses a run's options.json, checking every field, so that a damaged or hand-edited file is refused with the
 * field that is wrong (an InputError naming the file) rather than failing somewhere in training. Files written
 * before an option existed get its default.
 */
export function parseSavedRunOptions(text: string, path: string): SavedRunOptions {
  const bad = (what: string): InputError => new InputError(`${path}: ${what}; fix it, or start a new run with another --name`);
  let saved: unknown;
  try {
    saved = JSON.parse(text);
  } catch (err) {
    throw bad(`is not JSON (${(err as Error).message.split('\n')[0]})`);
  }
  if (!isObject(saved) || saved.format !== RUN_OPTIONS_FORMAT) {
    const format = isObject(saved) ? JSON.stringify(saved.format)?.slice(0, 40) : 'none';
    throw new InputError(`${path} is not the options of a qsattn run (format ${format}, expected ${RUN_OPTIONS_FORMAT})`);
  }
  if (!(saved.preset === null || typeof saved.preset === 'string')) throw bad('preset must be a name or null');
  if (!isObject(saved.model)) throw bad('model must be an object of model options');
  let model: ModelOptions;
  try {
    model = resolveModelOptions(saved.model as Partial<ModelOptions>);
  } catch (err) {
    throw bad(`model options are not valid: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!isObject(saved.run)) throw bad('run must be an object of run options');
  const run = { ...RUN_DEFAULTS, ...saved.run } as Record<string, unknown>;
  for (const [name, [what, ok]] of Object.entries(RUN_OPTION_CHECKS)) {
    if (!ok(run[name])) throw bad(`run.${name} is ${JSON.stringify(run[name])?.slice(0, 40)}, expected ${what}`);
  }
  const synth = saved.synth;
  if (!(synth === null || (isObject(synth) && ['seed', 'size', 'trainCount', 'testCount'].every((k) => isInt(synth[k], k === 'seed' ? 0 : 1))))) {
    throw bad('synth must be null or the synthetic dataset {seed, size, trainCount, testCount}');
  }
  if ((synth === null) !== (run.dataroot !== null)) throw bad('synth and run.dataroot disagree (exactly one of them is set)');
  if (!isObject(saved.given) || !Object.values(saved.given).every((v) => typeof v === 'string' || typeof v === 'boolean')) {
    throw bad('given must be an object of the options given');
  }
  return { ...(saved as unknown as SavedRunOptions), model, run: run as unknown as RunOptions };
}
