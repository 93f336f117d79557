import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readSafetensors } from '@qsattn/core';
import { InputError } from './io';

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'it is a directory',
  EACCES: 'permission denied',
};

/** Reads a file, turning the file system's error into one line that names the file. */
export function readInputFile(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new InputError(`cannot read ${path}: ${READ_ERRORS[code] ?? (err as Error).message}`);
  }
}

/** Tensors every recorded step holds (SPEC "Conformance fixtures"). */
const RECORDED_STEP = ['input.real_A', 'input.real_B', 'out.fake_B', 'loss.G'];

/**
 * Reads a conformance fixture and checks that it is one: a safetensors file whose metadata holds the official
 * command line (`official_args`, a JSON list of strings) and which records a training step.
 */
export function readFixture(path: string): Uint8Array {
  const bytes = readInputFile(path);
  const { metadata, tensors } = readSafetensors(bytes, path);
  const notFixture = (why: string): InputError =>
    new InputError(`${path} is not a conformance fixture: ${why} (fixtures are the qs_<mode>_64.safetensors recordings in testdata/fixtures)`);
  if (metadata.official_args === undefined) throw notFixture('its metadata has no official_args');
  let args: unknown;
  try {
    args = JSON.parse(metadata.official_args);
  } catch {
    throw notFixture('its official_args metadata is not JSON');
  }
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) throw notFixture('its official_args metadata is not a list of strings');
  const missing = RECORDED_STEP.filter((name) => tensors[name] === undefined);
  if (missing.length > 0) throw notFixture(`it records no training step (no ${missing.join(', ')})`);
  return bytes;
}

/**
 * The float64 replay of a recording, if one lies beside it: `DIR/float64/NAME.safetensors` for `DIR/NAME.safetensors`
 * (made by `testdata/fixtures-extra/replay_float64.py --out`).
 */
export function float64Companion(path: string): string | undefined {
  const companion = join(dirname(path), 'float64', basename(path));
  return existsSync(companion) ? companion : undefined;
}
