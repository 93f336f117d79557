import * as tf from '@tensorflow/tfjs-core';
import { ensureBackend, rawToTensors, readSafetensors, saveSafetensors, WeightFileError, type RawTensorMap, type RngState } from '@qsattn/core';
import { ProjectionHead } from '@qsattn/qsattn';
import { CutModel, discriminatorOptions, generatorOptions } from './cut-model';
import { resolveModelOptions, type ModelOptions } from './options';
import { patchGanLayers } from './patchgan';
import { resnetGeneratorLayers } from './resnet-generator';
import { sequentialParams } from './layer-spec';

/** A checkpoint that cannot be used: one line naming the file and what is wrong with it. */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  constructor(
    readonly source: string,
    message: string,
  ) {
    super(`${source}: ${message}`);
  }
}

/** Marks our checkpoints; bumped when their layout changes. */
export const CHECKPOINT_FORMAT = 'qsattn-checkpoint/1';

/** What a checkpoint holds besides tensors, stored as JSON in the safetensors metadata. */
export interface CheckpointInfo {
  format: typeof CHECKPOINT_FORMAT;
  options: ModelOptions;
  step: number;
  rng: RngState;
  /** Adam's step count and learning rate, per network. */
  optimizers: Record<'G' | 'D' | 'F', { step: number; lr: number }>;
}

const NETS = ['G', 'D', 'F'] as const;

/**
 * The whole training state as tensors (weights in PyTorch names and layout, `G.model.1.weight`,
 * `F.mlp_0.0.weight`, …; Adam's moments in the same layout, `adam.G.m.<name>` / `adam.G.v.<name>`) plus its
 * JSON description. The tensors are new; the caller disposes them.
 */
export function modelState(model: CutModel): { tensors: tf.NamedTensorMap; info: CheckpointInfo } {
  const tensors: tf.NamedTensorMap = {};
  const weights = { G: model.netG.params.toTorch(), D: model.netD.params.toTorch(), F: model.netF.toTorch() };
  for (const net of NETS) for (const [name, t] of Object.entries(weights[net])) tensors[`${net}.${name}`] = t;
  const toTorch = (net: 'G' | 'D' | 'F', name: string, t: tf.Tensor): tf.Tensor =>
    net === 'F' ? ProjectionHead.convertLayout(name, t) : (net === 'G' ? model.netG : model.netD).params.toTorchLayout(name, t);
  const optimizers = {} as CheckpointInfo['optimizers'];
  for (const net of NETS) {
    const opt = model.optimizers[net];
    const state = opt.getState();
    for (const [kind, moments] of [['m', state.firstMoment], ['v', state.secondMoment]] as const) {
      for (const [name, t] of Object.entries(moments)) {
        tensors[`adam.${net}.${kind}.${name}`] = toTorch(net, name, t);
        t.dispose();
      }
    }
    optimizers[net] = { step: state.step, lr: opt.lr };
  }
  const info: CheckpointInfo = { format: CHECKPOINT_FORMAT, options: model.options, step: model.step, rng: model.rng.getState(), optimizers };
  return { tensors, info };
}

function section(tensors: tf.NamedTensorMap, prefix: string): tf.NamedTensorMap {
  return Object.fromEntries(Object.entries(tensors).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
}

/** Restores a state made by `modelState` into a model built with the same options. */
export function restoreModelState(model: CutModel, tensors: tf.NamedTensorMap, info: CheckpointInfo, source: string): void {
  if (info.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(source, `not a qsattn checkpoint of format ${CHECKPOINT_FORMAT} (found ${JSON.stringify(info.format)})`);
  }
  try {
    model.loadTorch({ G: section(tensors, 'G.'), D: section(tensors, 'D.'), F: section(tensors, 'F.') }, source);
  } catch (e) {
    const message = firstLine(e);
    throw new CheckpointError(source, message.startsWith(source) ? message.slice(source.length).replace(/^:? */, '') : message);
  }
  for (const net of NETS) {
    const params = net === 'F' ? null : (net === 'G' ? model.netG : model.netD).params;
    const ours = (name: string, t: tf.Tensor): tf.Tensor =>
      params == null ? ProjectionHead.convertLayout(name, t) : params.fromTorchLayout(name, t);
    // Filled one tensor at a time, so that a bad tensor part-way leaves the converted ones to the finally.
    const firstMoment: tf.NamedTensorMap = {};
    const secondMoment: tf.NamedTensorMap = {};
    try {
      for (const [kind, moments] of [['m', firstMoment], ['v', secondMoment]] as const) {
        for (const [n, t] of Object.entries(section(tensors, `adam.${net}.${kind}.`))) moments[n] = ours(n, t);
      }
      model.optimizers[net].setState({ step: info.optimizers[net].step, firstMoment, secondMoment });
    } catch (e) {
      throw new CheckpointError(source, `Adam state of ${net}: ${firstLine(e)}`);
    } finally {
      tf.dispose([...Object.values(firstMoment), ...Object.values(secondMoment)]);
    }
    model.optimizers[net].lr = info.optimizers[net].lr;
  }
  model.rng.setState(info.rng);
  model.step = info.step;
}

/** An error's message on one line: its first line, and the first item of a list that follows it. */
function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n').slice(0, 2).map((l) => l.trim()).join(' ');
}

/** Saves the training state as one safetensors file, atomically (a crash leaves the previous file intact). */
export async function saveCheckpoint(model: CutModel, path: string): Promise<void> {
  const { tensors, info } = modelState(model);
  try {
    await saveSafetensors(path, tensors, { qsattn: JSON.stringify(info) });
  } finally {
    tf.dispose(Object.values(tensors));
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * Checks a checkpoint's `qsattn` metadata (the JSON of `CheckpointInfo`) field by field, so that a damaged or
 * hand-edited file is refused with what is wrong instead of failing somewhere in training.
 */
export function parseCheckpointInfo(text: string | undefined, source: string): CheckpointInfo {
  if (text === undefined) {
    throw new CheckpointError(source, "not a qsattn checkpoint (no 'qsattn' metadata); official .pth weights load with CutModel.loadTorch");
  }
  let info: unknown;
  try {
    info = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(source, `its 'qsattn' metadata is not JSON (${firstLine(e)})`);
  }
  const bad = (what: string, value: unknown): CheckpointError =>
    new CheckpointError(source, `its 'qsattn' metadata has ${what} ${JSON.stringify(value)?.slice(0, 80)}; the file is damaged or not ours`);
  if (!isObject(info)) throw bad('a value that is not an object:', info);
  if (info.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(source, `not a qsattn checkpoint of format ${CHECKPOINT_FORMAT} (found ${JSON.stringify(info.format)?.slice(0, 80)})`);
  }
  if (!isObject(info.options)) throw bad('options', info.options);
  let options: ModelOptions;
  try {
    options = resolveModelOptions(info.options as Partial<ModelOptions>);
  } catch (e) {
    throw new CheckpointError(source, `its model options are not valid: ${firstLine(e)}`);
  }
  if (!isCount(info.step)) throw bad('step', info.step);
  const rng = info.rng as Partial<RngState> | undefined;
  if (
    !isObject(rng) ||
    rng.algorithm !== 'xoshiro128**' ||
    !Array.isArray(rng.words) ||
    rng.words.length !== 4 ||
    !rng.words.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32) ||
    rng.words.every((w) => w === 0) ||
    !(rng.spareNormal == null || Number.isFinite(rng.spareNormal))
  ) {
    throw bad('rng', rng);
  }
  if (!isObject(info.optimizers)) throw bad('optimizers', info.optimizers);
  for (const net of NETS) {
    const opt = (info.optimizers as Record<string, unknown>)[net];
    if (!isObject(opt) || !isCount(opt.step) || !(typeof opt.lr === 'number' && Number.isFinite(opt.lr) && opt.lr >= 0)) {
      throw bad(`optimizers.${net}`, opt);
    }
  }
  return { ...(info as unknown as CheckpointInfo), options };
}

/** Reads a checkpoint's description without loading its tensors into a model. */
export async function readCheckpointInfo(bytes: Uint8Array, source: string): Promise<CheckpointInfo> {
  return parseCheckpointInfo(readSafetensors(bytes, source).metadata.qsattn, source);
}

/**
 * Compares the shapes of the file's G and D tensors with those its options call for, and F's widths with
 * netFNc, before a model is built: options that lie (ngf 10⁹ beside 16-filter weights) must not make us
 * allocate a network the file does not hold.
 */
function checkTensorsFitOptions(tensors: RawTensorMap, options: ModelOptions, source: string): void {
  // The discriminator's layer count sizes a loop: bounded by the D tensors the file holds before it runs.
  const dWeights = Object.keys(tensors).filter((name) => /^D\.model\.\d+\.weight$/.test(name)).length;
  if (options.netD === 'n_layers' && options.nLayersD > dWeights) {
    throw new CheckpointError(source, `its options give n_layers_D ${options.nLayersD} but the file holds only ${dWeights} discriminator convolutions`);
  }
  const expected = new Map<string, readonly number[]>();
  const specs = { G: sequentialParams(resnetGeneratorLayers(generatorOptions(options))), D: sequentialParams(patchGanLayers(discriminatorOptions(options))) };
  for (const net of ['G', 'D'] as const) for (const spec of specs[net]) expected.set(`${net}.${spec.name}`, spec.torchShape);
  for (const [name, shape] of expected) {
    const tensor = Object.hasOwn(tensors, name) ? tensors[name] : undefined;
    if (tensor === undefined) throw new CheckpointError(source, `has no tensor '${name}', which its options (ngf ${options.ngf}, ndf ${options.ndf}, ${options.netG}) call for`);
    if (tensor.shape.join() !== shape.join()) {
      throw new CheckpointError(source, `tensor '${name}' is [${tensor.shape}] but its options call for [${shape}] (the file is damaged or its options were edited)`);
    }
  }
  for (const [name, tensor] of Object.entries(tensors)) {
    if (name.startsWith('F.') && name.endsWith('.weight') && tensor.shape[0] !== options.netFNc) {
      throw new CheckpointError(source, `tensor '${name}' is [${tensor.shape}] but its options give netF_nc ${options.netFNc}`);
    }
  }
}

/** A checkpoint read back: the model it describes with its whole state restored, and the file's metadata. */
export interface RestoredCheckpoint {
  model: CutModel;
  info: CheckpointInfo;
  /** Every metadata entry of the file (the CLI keeps its data loader's position there). */
  metadata: Record<string, string>;
}

/**
 * Builds the model a checkpoint's bytes describe and restores its whole state. Every problem with the file is
 * a WeightFileError (not a readable safetensors file) or a CheckpointError (not a usable checkpoint).
 */
export async function restoreCheckpoint(bytes: Uint8Array, source: string): Promise<RestoredCheckpoint> {
  const { tensors: raw, metadata } = readSafetensors(bytes, source);
  const info = parseCheckpointInfo(metadata.qsattn, source);
  checkTensorsFitOptions(raw, info.options, source);
  await ensureBackend();
  const tensors = rawToTensors(raw, source);
  let model: CutModel | undefined;
  try {
    try {
      model = new CutModel(info.options);
    } catch (e) {
      throw new CheckpointError(source, `its options do not make a model: ${firstLine(e)}`);
    }
    restoreModelState(model, tensors, info, source);
  } catch (e) {
    model?.dispose();
    if (e instanceof CheckpointError || e instanceof WeightFileError) throw e;
    throw new CheckpointError(source, firstLine(e));
  } finally {
    tf.dispose(Object.values(tensors));
  }
  return { model, info, metadata };
}

// A computed name, so that browser bundles of the package leave Node's file system out (Node only: loadCheckpoint).
const NODE_FS = 'node:fs/promises';

/** Builds the model a checkpoint describes and restores its whole state, ready to continue training. */
export async function loadCheckpoint(path: string): Promise<CutModel> {
  const { readFile } = (await import(/* @vite-ignore */ NODE_FS)) as typeof import('node:fs/promises');
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    throw new CheckpointError(path, `cannot be read (${firstLine(e)})`);
  }
  return (await restoreCheckpoint(bytes, path)).model;
}
