import type { ModelOptions } from '@qsattn/cut-model';
import { describeBackendChoice, selectBackend } from '@qsattn/core';
import { loadGeneratorFile, type LoadedGenerator } from '../run/generator-file';

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
  const choice = await selectBackend(spec.backend);
  const loaded = await loadGeneratorFile(spec.path, spec.flags, spec.base);
  return { loaded, info: { options: loaded.options, kind: loaded.kind, step: loaded.step, backend: describeBackendChoice(choice) } };
}
