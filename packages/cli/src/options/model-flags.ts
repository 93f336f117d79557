import { INIT_TYPES } from '@qsattn/core';
import {
  DISCRIMINATOR_NAMES,
  GAN_MODES,
  GENERATOR_NAMES,
  parseOfficialArgs,
  QS_MODES,
  type ModelOptions,
  type RunFlags,
} from '@qsattn/cut-model';
import { PREPROCESS_MODES } from '@qsattn/data';
import type { OptionSpec, ParsedArgs } from '../commands/command';
import { UsageError } from '../io';

/**
 * An option of the official command line. The table's name is the kebab-case spelling (`qs-mode`); the official
 * snake_case one (`QS_mode`) is accepted as well, since names match up to case and `_` / `-`. Values are parsed
 * by cut-model's `parseOfficialArgs`, so they mean exactly what the official flags mean.
 */
export interface OfficialFlag extends OptionSpec {
  /** The official spelling, passed on to `parseOfficialArgs`. */
  official: string;
  /** The model options it sets (none for flags that only accept the one value we implement, e.g. `--normG instance`). */
  sets?: readonly (keyof ModelOptions)[];
  /** The official run flag it sets. */
  runFlag?: keyof RunFlags;
}

const flag = (official: string, description: string, rest: Omit<OfficialFlag, 'official' | 'description' | 'type'> & { type?: OfficialFlag['type'] } = {}): OfficialFlag => ({
  type: 'string',
  official,
  description: official.includes('_') ? `${description} (--${official})` : description,
  ...rest,
});

/** Official flags that define the model and its training step. */
export const MODEL_FLAGS: Record<string, OfficialFlag> = {
  'qs-mode': flag('QS_mode', 'QS-Attn query selection', { valueName: 'MODE', choices: QS_MODES, default: 'global', sets: ['qsMode'] }),
  'input-nc': flag('input_nc', 'channels of domain A images', { valueName: 'N', sets: ['inputNc'] }),
  'output-nc': flag('output_nc', 'channels of domain B images', { valueName: 'N', sets: ['outputNc'] }),
  ngf: flag('ngf', "generator filters in the first conv layer (default 64)", { valueName: 'N', sets: ['ngf'] }),
  ndf: flag('ndf', 'discriminator filters in the first conv layer (default 64)', { valueName: 'N', sets: ['ndf'] }),
  netG: flag('netG', 'generator architecture', { valueName: 'NAME', choices: GENERATOR_NAMES, default: 'resnet_9blocks', sets: ['netG'] }),
  netD: flag('netD', 'discriminator architecture', { valueName: 'NAME', choices: DISCRIMINATOR_NAMES, default: 'basic', sets: ['netD'] }),
  'n-layers-D': flag('n_layers_D', "strided layers of the 'n_layers' discriminator", { valueName: 'N', sets: ['nLayersD'] }),
  normG: flag('normG', 'generator normalisation', { valueName: 'NORM', choices: ['instance'] }),
  normD: flag('normD', 'discriminator normalisation', { valueName: 'NORM', choices: ['instance'] }),
  'no-antialias': flag('no_antialias', 'strided convs instead of anti-aliased downsampling', { type: 'boolean', sets: ['antialias'] }),
  'no-antialias-up': flag('no_antialias_up', 'transposed convs instead of anti-aliased upsampling', { type: 'boolean', sets: ['antialiasUp'] }),
  'init-type': flag('init_type', 'weight initialisation', { valueName: 'TYPE', choices: INIT_TYPES, default: 'xavier', sets: ['init'] }),
  'init-gain': flag('init_gain', 'initialisation gain (default 0.02)', { valueName: 'X', sets: ['init'] }),
  'gan-mode': flag('gan_mode', 'GAN loss', { valueName: 'MODE', choices: GAN_MODES, default: 'lsgan', sets: ['ganMode'] }),
  'lambda-GAN': flag('lambda_GAN', 'weight of the GAN loss (default 1)', { valueName: 'X', sets: ['lambdaGAN'] }),
  'lambda-NCE': flag('lambda_NCE', 'weight of the PatchNCE loss (default 1)', { valueName: 'X', sets: ['lambdaNCE'] }),
  'nce-idt': flag('nce_idt', 'PatchNCE on B → G(B) as well (true|false)', { type: 'boolean', optionalValue: true, sets: ['nceIdt'] }),
  'nce-layers': flag('nce_layers', 'generator layers the PatchNCE loss reads (default 0,4,8,12,16)', { valueName: 'LIST', sets: ['nceLayers'] }),
  'nce-T': flag('nce_T', 'PatchNCE temperature (default 0.07)', { valueName: 'X', sets: ['nceT'] }),
  'num-patches': flag('num_patches', 'patches per NCE layer (default 256)', { valueName: 'N', sets: ['numPatches'] }),
  netF: flag('netF', 'projection head', { valueName: 'NAME', choices: ['mlp_sample'] }),
  'netF-nc': flag('netF_nc', 'projection head width (default 256)', { valueName: 'N', sets: ['netFNc'] }),
  'flip-equivariance': flag('flip_equivariance', 'FastCUT flip-equivariance (true|false)', { type: 'boolean', optionalValue: true, sets: ['flipEquivariance'] }),
  lr: flag('lr', 'Adam learning rate (default 0.0002)', { valueName: 'X', sets: ['lr'] }),
  beta1: flag('beta1', 'Adam beta1 (default 0.5)', { valueName: 'X', sets: ['beta1'] }),
  beta2: flag('beta2', 'Adam beta2 (default 0.999)', { valueName: 'X', sets: ['beta2'] }),
  'n-epochs': flag('n_epochs', 'epochs at the initial learning rate (default 200)', { valueName: 'N', sets: ['nEpochs'] }),
  'n-epochs-decay': flag('n_epochs_decay', 'epochs of linear decay to zero (default 200)', { valueName: 'N', sets: ['nEpochsDecay'] }),
  'epoch-count': flag('epoch_count', 'the epoch a new run starts counting from (default 1)', { valueName: 'N', sets: ['epochCount'] }),
  'lr-policy': flag('lr_policy', 'learning-rate policy', { valueName: 'NAME', choices: ['linear'] }),
};

/** Official flags of data loading (`test` takes the preprocessing ones as well). */
export const DATA_FLAGS: Record<string, OfficialFlag> = {
  dataroot: flag('dataroot', 'dataset folder with trainA/ trainB/ testA/ testB/', { valueName: 'DIR', runFlag: 'dataroot' }),
  name: flag('name', 'run name: the run folder is CHECKPOINTS_DIR/NAME', { valueName: 'NAME', runFlag: 'name' }),
  direction: flag('direction', 'translation direction', { valueName: 'DIR', choices: ['AtoB', 'BtoA'], default: 'AtoB', runFlag: 'direction' }),
  'batch-size': flag('batch_size', 'images per step (default 1)', { valueName: 'N', runFlag: 'batchSize' }),
  'load-size': flag('load_size', 'images are resized to this before cropping (default 286)', { valueName: 'N', runFlag: 'loadSize' }),
  'crop-size': flag('crop_size', 'crop size (default 256)', { valueName: 'N', runFlag: 'cropSize' }),
  preprocess: flag('preprocess', 'image preprocessing', { valueName: 'MODE', choices: PREPROCESS_MODES, default: 'resize_and_crop', runFlag: 'preprocess' }),
  'no-flip': flag('no_flip', 'no random horizontal flips', { type: 'boolean', runFlag: 'noFlip' }),
  'serial-batches': flag('serial_batches', 'A[i] with B[i], in order, instead of a random B', { type: 'boolean', runFlag: 'serialBatches' }),
};

/** The official command line of the given flags, as `parseOfficialArgs` reads it. */
function officialArgv(table: Record<string, OfficialFlag>, values: ParsedArgs['values']): string[] {
  const argv: string[] = [];
  for (const [name, spec] of Object.entries(table)) {
    const value = values[name];
    if (value === undefined) continue;
    if (spec.type === 'boolean' && spec.optionalValue !== true) {
      if (value === true) argv.push(`--${spec.official}`);
    } else {
      argv.push(`--${spec.official}=${String(value)}`);
    }
  }
  return argv;
}

/**
 * The model options and official run flags the given options set (only those: what they leave out comes from the
 * layers below, a preset or a saved run). A value `parseOfficialArgs` rejects is a usage error naming the flag.
 */
export function parseOfficialFlags(values: ParsedArgs['values']): { model: Partial<ModelOptions>; run: RunFlags } {
  const table = { ...MODEL_FLAGS, ...DATA_FLAGS };
  let parsed: ReturnType<typeof parseOfficialArgs>;
  try {
    parsed = parseOfficialArgs(officialArgv(table, values));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const model: Partial<ModelOptions> = {};
  const run: RunFlags = {};
  for (const [name, spec] of Object.entries(table)) {
    if (values[name] === undefined) continue;
    for (const key of spec.sets ?? []) (model as Record<string, unknown>)[key] = parsed.model[key];
    if (spec.runFlag !== undefined) {
      (run as Record<string, unknown>)[spec.runFlag] = spec.type === 'boolean' ? values[name] === true : parsed.run[spec.runFlag];
    }
  }
  return { model, run };
}
