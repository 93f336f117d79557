import * as tf from '@tensorflow/tfjs-core';
import { loadStateDict, readSafetensors, saveSafetensors, type RngState } from '@qsattn/core';
import { ProjectionHead } from '@qsattn/qsattn';
import { CutModel } from './cut-model';
import { resolveModelOptions, type ModelOptions } from './options';

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
    throw new Error(`${source}: not a qsattn checkpoint of format ${CHECKPOINT_FORMAT} (found ${JSON.stringify(info.format)})`);
  }
  model.loadTorch({ G: section(tensors, 'G.'), D: section(tensors, 'D.'), F: section(tensors, 'F.') }, source);
  for (const net of NETS) {
    const params = net === 'F' ? null : (net === 'G' ? model.netG : model.netD).params;
    const ours = (name: string, t: tf.Tensor): tf.Tensor =>
      params == null ? ProjectionHead.convertLayout(name, t) : params.fromTorchLayout(name, t);
    const moments = (kind: 'm' | 'v'): tf.NamedTensorMap =>
      Object.fromEntries(Object.entries(section(tensors, `adam.${net}.${kind}.`)).map(([n, t]) => [n, ours(n, t)]));
    const firstMoment = moments('m');
    const secondMoment = moments('v');
    try {
      model.optimizers[net].setState({ step: info.optimizers[net].step, firstMoment, secondMoment });
    } catch (e) {
      throw new Error(`${source}: ${(e as Error).message}`);
    } finally {
      tf.dispose([...Object.values(firstMoment), ...Object.values(secondMoment)]);
    }
    model.optimizers[net].lr = info.optimizers[net].lr;
  }
  model.rng.setState(info.rng);
  model.step = info.step;
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

/** Reads a checkpoint's description without loading its tensors into a model. */
export async function readCheckpointInfo(bytes: Uint8Array, source: string): Promise<CheckpointInfo> {
  const { metadata } = readSafetensors(bytes, source);
  if (metadata.qsattn == null) throw new Error(`${source}: not a qsattn checkpoint (no 'qsattn' metadata); official .pth weights load with CutModel.loadTorch`);
  return JSON.parse(metadata.qsattn) as CheckpointInfo;
}

// A computed name, so that browser bundles of the package leave Node's file system out (Node only: loadCheckpoint).
const NODE_FS = 'node:fs/promises';

/** Builds the model a checkpoint describes and restores its whole state, ready to continue training. */
export async function loadCheckpoint(path: string): Promise<CutModel> {
  const { readFile } = (await import(/* @vite-ignore */ NODE_FS)) as typeof import('node:fs/promises');
  const bytes = new Uint8Array(await readFile(path));
  const info = await readCheckpointInfo(bytes, path);
  const tensors = await loadStateDict(bytes, { name: path, format: 'safetensors' });
  const model = new CutModel(resolveModelOptions(info.options));
  try {
    restoreModelState(model, tensors, info, path);
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    tf.dispose(Object.values(tensors));
  }
  return model;
}
