import { BACKEND_NAMES, selectBackend, type BackendChoice } from '@qsattn/core';
import type { OptionSpec, ParsedArgs } from '../commands/command';
import { integerValue, stringValue } from './cli-values';

/** --backend and --threads, shared by every command that computes. */
export const BACKEND_FLAGS: Record<string, OptionSpec> = {
  backend: { type: 'string', valueName: 'NAME', choices: BACKEND_NAMES, default: 'auto', description: 'the TensorFlow.js backend to run on' },
  threads: {
    type: 'string',
    valueName: 'N',
    description: 'threads of the wasm backend (default: every core, at most 8; results are the same for any N)',
  },
};

/** Starts the backend the command line asks for (a bad --threads is a usage error, before anything starts). */
export function selectBackendFrom(values: ParsedArgs['values']): Promise<BackendChoice> {
  const threads = integerValue(values, 'threads', 1);
  return selectBackend(stringValue(values, 'backend') ?? 'auto', threads === undefined ? {} : { threads });
}
