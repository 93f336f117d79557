import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { ParsedArgs } from '../commands/command';
import { InputError, UsageError } from '../io';
import { stringValue } from '../options/cli-values';
import { parseOfficialFlags } from '../options/model-flags';
import { RUN_DEFAULTS, type SavedRunOptions } from '../options/run-options';
import { loadGeneratorFile, type LoadedGenerator } from './generator-file';
import { RunFolder } from './run-folder';

export interface ModelSource {
  /** The weights file: ours (`<epoch>_checkpoint.safetensors`) or the official `<epoch>_net_G.pth`. */
  path: string;
  /** The run's name (the checkpoint file's stem when given directly). */
  name: string;
  epoch: string;
  /** The saved options of a run made by `qsattn train`. */
  saved: SavedRunOptions | null;
}

/**
 * Finds the generator as the official test script does — `CHECKPOINTS_DIR/NAME/<epoch>_net_G.pth` — or one of our
 * checkpoints in the same place (preferred), or the file given with `--checkpoint`. A run folder with
 * `options.json` supplies the architecture and test-time sizes.
 */
export function findModelSource(values: ParsedArgs['values']): ModelSource {
  const checkpoint = stringValue(values, 'checkpoint');
  const name = stringValue(values, 'name');
  const epoch = stringValue(values, 'epoch') ?? 'latest';
  const folder = name === undefined ? null : RunFolder.of(stringValue(values, 'checkpoints-dir') ?? RUN_DEFAULTS.checkpointsDir, name);
  const saved = folder?.hasOptions() ? folder.readOptions() : null;
  if (checkpoint !== undefined) {
    return { path: checkpoint, name: name ?? basename(checkpoint).replace(/\.[^.]*$/, ''), epoch, saved };
  }
  if (folder === null) throw new UsageError('give --name NAME (a run folder under --checkpoints_dir) or --checkpoint FILE');
  const candidates = [folder.checkpointPath(epoch), folder.officialGeneratorPath(epoch)];
  const path = candidates.find((p) => existsSync(p));
  if (path === undefined) throw new InputError(`no checkpoint of epoch '${epoch}' in ${folder.dir}: looked for ${candidates.join(' and ')}`);
  return { path, name: name!, epoch, saved };
}

/** Loads the source's generator: its architecture from the checkpoint or the run's options, the flags on top. */
export async function loadSourceGenerator(source: ModelSource, values: ParsedArgs['values']): Promise<LoadedGenerator> {
  return loadGeneratorFile(source.path, parseOfficialFlags(values).model, source.saved?.model);
}
