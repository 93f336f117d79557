import { readFileSync } from 'node:fs';
import { parseCommandArgs } from '../args';
import type { Command, ParsedArgs } from '../commands/command';
import { InputError, UsageError } from '../io';

/** A string option's value, or undefined when not given. */
export function stringValue(values: ParsedArgs['values'], name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** An integer option's value (at least `min`), or undefined when not given; anything else is a usage error. */
export function integerValue(values: ParsedArgs['values'], name: string, min: number): number | undefined {
  const v = stringValue(values, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < min) throw new UsageError(`option --${name} needs an integer ≥ ${min}, got '${v}'`);
  return n;
}

/**
 * Reads a `--config` file: a JSON object of option names (either spelling, as on the command line) and values
 * (strings, numbers, booleans, or a list for `nce_layers`), parsed by the command's own table, so a bad entry
 * is the same one-line error as on the command line, prefixed with the file.
 */
export function readConfigFile(command: Command, path: string, forbidden: readonly string[]): ParsedArgs['values'] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`cannot read config ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(`config ${path} is not JSON: ${(err as Error).message}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new InputError(`config ${path} must be a JSON object of options, e.g. {"QS_mode": "global", "ngf": 16}`);
  }
  const argv: string[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (typeof value === 'boolean') argv.push(`--${name}=${value}`);
    else if (typeof value === 'number' || typeof value === 'string') argv.push(`--${name}=${value}`);
    else if (Array.isArray(value)) argv.push(`--${name}=${value.join(',')}`);
    else throw new UsageError(`config ${path}: option ${name} must be a string, number, boolean or list`);
  }
  let parsed: ParsedArgs;
  try {
    parsed = parseCommandArgs(command, argv, { booleanValues: true });
  } catch (err) {
    throw new UsageError(`config ${path}: ${(err as Error).message}`);
  }
  const bad = Object.keys(parsed.values).filter((name) => forbidden.includes(name));
  if (bad.length > 0 || parsed.positionals.length > 0) {
    throw new UsageError(`config ${path}: ${bad.length > 0 ? `--${bad[0]}` : `'${parsed.positionals[0]}'`} cannot be set in a config file`);
  }
  return parsed.values;
}
