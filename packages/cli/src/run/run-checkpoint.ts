import * as tf from '@tensorflow/tfjs-core';
import { readSafetensors, saveSafetensors } from '@qsattn/core';
import { modelState, parseCheckpointInfo, restoreCheckpoint, type CheckpointInfo, type CutModel, type RestoredCheckpoint } from '@qsattn/cut-model';
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

/** The loader's position as a checkpoint stores it, checked field by field (the loader checks it fits the dataset). */
function parseLoaderState(text: string | undefined, path: string): UnalignedLoaderState | null {
  if (text === undefined) return null;
  let state: unknown;
  try {
    state = JSON.parse(text);
  } catch {
    throw new InputError(`${path}: its '${LOADER_KEY}' metadata is not JSON; the file is damaged`);
  }
  const s = state as Partial<UnalignedLoaderState> | null;
  const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  if (s === null || typeof s !== 'object' || !count(s.epoch) || !count(s.step) || typeof s.finetuning !== 'boolean' || typeof s.rng !== 'object' || s.rng === null) {
    throw new InputError(`${path}: its '${LOADER_KEY}' metadata is not a data loader position; the file is damaged`);
  }
  return s as UnalignedLoaderState;
}

/** The checkpoint's bytes and description; a file that is not one of ours is an InputError naming it. */
export async function readRunCheckpoint(path: string): Promise<{ bytes: Uint8Array; info: CheckpointInfo; loader: UnalignedLoaderState | null }> {
  const bytes = readInputFile(path);
  try {
    const { metadata } = readSafetensors(bytes, path);
    return { bytes, info: parseCheckpointInfo(metadata.qsattn, path), loader: parseLoaderState(metadata[LOADER_KEY], path) };
  } catch (err) {
    throw new InputError(`${(err as Error).message.split('\n')[0]}`);
  }
}

/** Builds the model a checkpoint describes and restores its whole training state. */
export async function loadRunCheckpoint(path: string): Promise<LoadedCheckpoint> {
  const bytes = readInputFile(path);
  let restored: RestoredCheckpoint;
  let loader: UnalignedLoaderState | null;
  try {
    restored = await restoreCheckpoint(bytes, path);
  } catch (err) {
    throw new InputError((err as Error).message.split('\n')[0]);
  }
  try {
    loader = parseLoaderState(restored.metadata[LOADER_KEY], path);
  } catch (err) {
    restored.model.dispose();
    throw err;
  }
  return { model: restored.model, info: restored.info, loader };
}
