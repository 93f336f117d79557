import { GAN_MODES } from './gan-loss';
import {
  DISCRIMINATOR_NAMES,
  GENERATOR_NAMES,
  type ModelOptions,
  presetOptions,
  QS_MODES,
  resolveModelOptions,
} from './options';
import { INIT_TYPES } from '@qsattn/core';

/** Options of the official command line that are not the model's: data loading and run bookkeeping. */
export interface RunFlags {
  batchSize?: number;
  cropSize?: number;
  loadSize?: number;
  preprocess?: string;
  noFlip?: boolean;
  serialBatches?: boolean;
  dataroot?: string;
  name?: string;
  direction?: string;
}

type Parser = (value: string | undefined, flag: string) => unknown;

const number: Parser = (v, flag) => {
  const n = Number(v);
  if (v === undefined || v.trim() === '' || !Number.isFinite(n)) throw new Error(`--${flag} needs a number, got ${JSON.stringify(v)}`);
  return n;
};
const integer: Parser = (v, flag) => {
  const n = number(v, flag) as number;
  if (!Number.isInteger(n)) throw new Error(`--${flag} needs an integer, got ${v}`);
  return n;
};
const choice =
  (choices: readonly string[]): Parser =>
  (v, flag) => {
    if (v === undefined || !choices.includes(v)) throw new Error(`--${flag} must be one of ${choices.join(', ')}, got ${JSON.stringify(v)}`);
    return v;
  };
/** The official `str2bool`: a bare flag means true. */
const bool: Parser = (v, flag) => {
  if (v === undefined) return true;
  const s = v.toLowerCase();
  if (['yes', 'true', 't', 'y', '1'].includes(s)) return true;
  if (['no', 'false', 'f', 'n', '0'].includes(s)) return false;
  throw new Error(`--${flag} must be true or false, got ${JSON.stringify(v)}`);
};
const text: Parser = (v, flag) => {
  if (v === undefined) throw new Error(`--${flag} needs a value`);
  return v;
};

interface FlagSpec {
  /** Where the value goes: a model option, a run flag, or a special handler. */
  target: { model: keyof ModelOptions } | { run: keyof RunFlags } | { special: 'CUT_mode' | 'init_type' | 'init_gain' | 'negate' | 'checkOnly' };
  parse: Parser;
  /** store_true flags take no value. */
  storeTrue?: boolean;
  negates?: keyof ModelOptions;
}

const FLAGS: Record<string, FlagSpec> = {
  QS_mode: { target: { model: 'qsMode' }, parse: choice(QS_MODES) },
  CUT_mode: { target: { special: 'CUT_mode' }, parse: choice(['CUT', 'cut', 'FastCUT', 'fastcut']) },
  input_nc: { target: { model: 'inputNc' }, parse: integer },
  output_nc: { target: { model: 'outputNc' }, parse: integer },
  ngf: { target: { model: 'ngf' }, parse: integer },
  ndf: { target: { model: 'ndf' }, parse: integer },
  netG: { target: { model: 'netG' }, parse: choice(GENERATOR_NAMES) },
  netD: { target: { model: 'netD' }, parse: choice(DISCRIMINATOR_NAMES) },
  n_layers_D: { target: { model: 'nLayersD' }, parse: integer },
  normG: { target: { special: 'checkOnly' }, parse: choice(['instance']) },
  normD: { target: { special: 'checkOnly' }, parse: choice(['instance']) },
  no_antialias: { target: { special: 'negate' }, parse: bool, storeTrue: true, negates: 'antialias' },
  no_antialias_up: { target: { special: 'negate' }, parse: bool, storeTrue: true, negates: 'antialiasUp' },
  init_type: { target: { special: 'init_type' }, parse: choice(INIT_TYPES) },
  init_gain: { target: { special: 'init_gain' }, parse: number },
  gan_mode: { target: { model: 'ganMode' }, parse: choice(GAN_MODES) },
  lambda_GAN: { target: { model: 'lambdaGAN' }, parse: number },
  lambda_NCE: { target: { model: 'lambdaNCE' }, parse: number },
  nce_idt: { target: { model: 'nceIdt' }, parse: bool },
  nce_layers: {
    target: { model: 'nceLayers' },
    parse: (v, flag) => (text(v, flag) as string).split(',').map((s) => integer(s.trim(), flag)),
  },
  nce_T: { target: { model: 'nceT' }, parse: number },
  num_patches: { target: { model: 'numPatches' }, parse: integer },
  netF_nc: { target: { model: 'netFNc' }, parse: integer },
  netF: { target: { special: 'checkOnly' }, parse: choice(['mlp_sample']) },
  flip_equivariance: { target: { model: 'flipEquivariance' }, parse: bool },
  lr: { target: { model: 'lr' }, parse: number },
  beta1: { target: { model: 'beta1' }, parse: number },
  beta2: { target: { model: 'beta2' }, parse: number },
  n_epochs: { target: { model: 'nEpochs' }, parse: integer },
  n_epochs_decay: { target: { model: 'nEpochsDecay' }, parse: integer },
  epoch_count: { target: { model: 'epochCount' }, parse: integer },
  lr_policy: { target: { special: 'checkOnly' }, parse: choice(['linear']) },
  batch_size: { target: { run: 'batchSize' }, parse: integer },
  crop_size: { target: { run: 'cropSize' }, parse: integer },
  load_size: { target: { run: 'loadSize' }, parse: integer },
  preprocess: { target: { run: 'preprocess' }, parse: choice(['resize_and_crop', 'crop', 'scale_width', 'scale_width_and_crop', 'none']) },
  no_flip: { target: { run: 'noFlip' }, parse: bool, storeTrue: true },
  serial_batches: { target: { run: 'serialBatches' }, parse: bool, storeTrue: true },
  dataroot: { target: { run: 'dataroot' }, parse: text },
  name: { target: { run: 'name' }, parse: text },
  direction: { target: { run: 'direction' }, parse: choice(['AtoB', 'BtoA']) },
};

export interface OfficialArgs {
  model: ModelOptions;
  run: RunFlags;
}

/**
 * Parses the official `train.py` / `test.py` command line (`--flag value` or `--flag=value`, snake_case as
 * the official README writes it, or kebab-case) into our options. `--CUT_mode FastCUT` applies the FastCUT
 * preset first, as the official option modifier does; an unknown flag is an error naming it.
 */
export function parseOfficialArgs(args: readonly string[]): OfficialArgs {
  const values = new Map<string, string | undefined>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${JSON.stringify(arg)}: options start with --`);
    const eq = arg.indexOf('=');
    const raw = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const flag = FLAGS[raw] ? raw : raw.replace(/-/g, '_');
    const spec = FLAGS[flag];
    if (spec == null) throw new Error(`unknown option --${raw}: known options are ${Object.keys(FLAGS).map((f) => `--${f}`).join(', ')}`);
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else if (!spec.storeTrue && i + 1 < args.length && !args[i + 1].startsWith('--')) value = args[++i];
    values.set(flag, value);
  }
  const model: Partial<ModelOptions> = {};
  const run: RunFlags = {};
  let preset: Partial<ModelOptions> = {};
  let initType: string | undefined;
  let initGain: number | undefined;
  for (const [flag, value] of values) {
    const spec = FLAGS[flag];
    const parsed = spec.parse(value, flag);
    const target = spec.target;
    // checkOnly flags accept just the value we implement (e.g. --normG instance): checked, nothing to store.
    if ('special' in target && target.special === 'checkOnly') continue;
    if ('model' in target) (model as Record<string, unknown>)[target.model] = parsed;
    else if ('run' in target) (run as Record<string, unknown>)[target.run] = parsed;
    else if (target.special === 'negate') (model as Record<string, unknown>)[spec.negates!] = !parsed;
    else if (target.special === 'CUT_mode') preset = presetOptions(String(parsed).toLowerCase() === 'fastcut' ? 'fastcut' : 'cut');
    else if (target.special === 'init_type') initType = parsed as string;
    else initGain = parsed as number;
  }
  if (initType !== undefined || initGain !== undefined) {
    const type = (initType ?? 'xavier') as 'xavier';
    model.init = type === ('kaiming' as string) ? { type: 'kaiming' } : { type, gain: initGain ?? 0.02 };
  }
  // A run without --QS_mode but with --CUT_mode is plain CUT.
  if (!values.has('QS_mode') && values.has('CUT_mode')) model.qsMode = null;
  return { model: resolveModelOptions(preset, model), run };
}
