import * as tf from '@tensorflow/tfjs-core';
import { loadStateDict, readSafetensors, saveSafetensors } from '@qsattn/core';
import { CutModel, modelState, readCheckpointInfo, resolveModelOptions, restoreModelState, type CheckpointInfo } from '@qsattn/cut-model';
import type { UnalignedLoaderState } from '@qsattn/data';
import { readInputFile } from '../fixture-file';
import { InputError } from '../io';

/** Metadata key of the data loader's state, beside cut-model's `qsattn` (which `loadCheckpoint` reads). */
const LOADER_KEY = 'qsattn_loader';

/**
 * Saves the whole training state — cut-model's checkpoint (weights, Adam state, step, RNG) plus the data loader's
 * position — as one safetensors file, atomically. `loadCheckpoint` of cut-model reads it too.
 */
export async function saveRunCheckpoint(path: string, model: CutModel, loader: UnalignedLoaderState | null): Promise<void> {
  const { tensors, info } = modelState(model);
  const metadata: Record<string, string> = { qsattn: JSON.stringify(info) };
  if (loader !== null) metadata[LOADER_KEY] = JSON.stringify(loader);
  try {
    await saveSafetensors(path, tensors, metadata);
  } finally {
    tf.dispose(Object.values(tensors));
  }
}

export interface LoadedCheckpoint {
  model: CutModel;
  info: CheckpointInfo;
  loader: UnalignedLoaderState | null;
}

/** The checkpoint's bytes and description; a file that is not one of ours is an InputError naming it. */
export async function readRunCheckpoint(path: string): Promise<{ bytes: Uint8Array; info: CheckpointInfo; loader: UnalignedLoaderState | null }> {
  const bytes = readInputFile(path);
  try {
    const { metadata } = readSafetensors(bytes, path);
    const info = await readCheckpointInfo(bytes, path);
    const loader = metadata[LOADER_KEY] === undefined ? null : (JSON.parse(metadata[LOADER_KEY]) as UnalignedLoaderState);
    return { bytes, info, loader };
  } catch (err) {
    throw new InputError(`${(err as Error).message.split('\n')[0]}`);
  }
}

/** Builds the model a checkpoint describes and restores its whole training state. */
export async function loadRunCheckpoint(path: string): Promise<LoadedCheckpoint> {
  const { bytes, info, loader } = await readRunCheckpoint(path);
  const tensors = await loadStateDict(bytes, { name: path, format: 'safetensors' });
  let model: CutModel | undefined;
  try {
    model = new CutModel(resolveModelOptions(info.options));
    restoreModelState(model, tensors, info, path);
  } catch (err) {
    model?.dispose();
    throw new InputError((err as Error).message.split('\n')[0]);
  } finally {
    tf.dispose(Object.values(tensors));
  }
  return { model, info, loader };
}
