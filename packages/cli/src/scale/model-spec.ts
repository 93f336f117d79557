import { availableParallelism } from 'node:os';
import type { ModelOptions } from '@qsattn/cut-model';
import { describeBackendChoice, selectBackend } from '@qsattn/core';
import type { ParsedArgs } from '../commands/command';
import { stringValue } from '../options/cli-values';
import { parseOfficialFlags } from '../options/model-flags';
import { loadGeneratorFile, type LoadedGenerator } from '../run/generator-file';
import type { ModelSource } from '../run/model-source';

/**
 * Everything a translating thread or machine needs to load the generator itself: plain data, so that it crosses a
 * thread boundary or a queue as JSON.
 */
export interface ModelSpec {
  /** The weights file (ours, an official `.pth`, or a safetensors state dict). */
  path: string;
  /** Architecture flags given on the command line. */
  flags: Partial<ModelOptions>;
  /** The run's saved architecture, for weights files that do not carry one. */
  base?: ModelOptions;
  /** The tfjs backend name (`auto`, `wasm`, …). */
  backend: string;
  /** Threads of the wasm backend (its default, every core, when absent). */
  threads?: number;
}

/** The spec of a model found on the command line (`--name`/`--checkpoint`, architecture flags, `--backend`). */
export function modelSpec(source: ModelSource, values: ParsedArgs['values']): ModelSpec {
  return { path: source.path, flags: parseOfficialFlags(values).model, base: source.saved?.model, backend: stringValue(values, 'backend') ?? 'auto' };
}

/**
 * Workers and wasm threads per worker, so that together they fill the cores without oversubscribing them: by
 * default one worker per core with one thread each (independent images scale better than threads splitting one);
 * given one of the two, the other fills the remaining cores; given both, both as given.
 */
export function splitCores(workers: number | undefined, threads: number | undefined, cores = availableParallelism()): { workers: number; threads: number } {
  if (workers !== undefined) return { workers, threads: threads ?? Math.max(1, Math.floor(cores / workers)) };
  if (threads !== undefined) return { workers: Math.max(1, Math.floor(cores / threads)), threads };
  return { workers: cores, threads: 1 };
}

/** What a loaded model says about itself (the header line of `qsattn test`). */
export interface ModelInfo {
  options: ModelOptions;
  kind: LoadedGenerator['kind'];
  step?: number;
  /** `describeBackendChoice`'s line. */
  backend: string;
}

/** Starts the spec's backend in this thread and loads its generator. */
export async function loadSpec(spec: ModelSpec): Promise<{ loaded: LoadedGenerator; info: ModelInfo }> {
  const choice = await selectBackend(spec.backend, spec.threads === undefined ? {} : { threads: spec.threads });
  const loaded = await loadGeneratorFile(spec.path, spec.flags, spec.base);
  return { loaded, info: { options: loaded.options, kind: loaded.kind, step: loaded.step, backend: describeBackendChoice(choice) } };
}
