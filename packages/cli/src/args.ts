import { parseArgs } from 'node:util';
import type { Command, OptionSpec, ParsedArgs } from './commands/command';
import { UsageError } from './io';

export const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help' };

/** A command's options, `--help` included. */
export function commandOptions(command: Command): Record<string, OptionSpec> {
  return { ...command.options, help: HELP_OPTION };
}

export function optionList(options: Record<string, OptionSpec>): string {
  return Object.keys(options)
    .map((name) => `--${name}`)
    .join(', ');
}

/** How option names compare: case and `_` / `-` do not matter, so `--QS_mode`, `--qs-mode` and `--qs_mode` are one option. */
export function optionKey(name: string): string {
  return name.toLowerCase().replace(/_/g, '-');
}

/** The official `str2bool` words. */
const TRUE_WORDS = ['yes', 'true', 't', 'y', '1'];
const FALSE_WORDS = ['no', 'false', 'f', 'n', '0'];

function boolWord(word: string): boolean | undefined {
  const w = word.toLowerCase();
  return TRUE_WORDS.includes(w) ? true : FALSE_WORDS.includes(w) ? false : undefined;
}

/**
 * Rewrites each `--name` / `--name=value` to the table's spelling of the option when the name matches one up to
 * case and `_` / `-` (see `optionKey`); anything after `--` is left alone.
 */
function canonicalNames(options: Record<string, OptionSpec>, argv: readonly string[]): string[] {
  const byKey = new Map(Object.keys(options).map((name) => [optionKey(name), name]));
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') return [...out, ...argv.slice(i)];
    if (!arg.startsWith('--')) {
      out.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const canonical = byKey.get(optionKey(name));
    out.push(canonical === undefined ? arg : `--${canonical}${eq >= 0 ? arg.slice(eq) : ''}`);
  }
  return out;
}

/**
 * Parses a command's arguments. node:util's own strict-mode errors are replaced by one line that names the
 * offending option and the valid ones; string options with `choices` are checked here. Option names match up
 * to case and `_` / `-`. A boolean option with `optionalValue` also takes `--flag=true|false` or
 * `--flag true|false` (the official `str2bool` words); with `booleanValues` (config files) every boolean does.
 */
export function parseCommandArgs(command: Command, argv: readonly string[], { booleanValues = false } = {}): ParsedArgs {
  const options = commandOptions(command);
  const config = Object.fromEntries(
    Object.entries(options).map(([name, spec]) => [name, spec.short === undefined ? { type: spec.type } : { type: spec.type, short: spec.short }]),
  );
  const args = canonicalNames(options, argv);
  const { tokens } = parseArgs({ args, options: config, allowPositionals: true, strict: false, tokens: true });
  const parsed: ParsedArgs = { positionals: [], values: {} };
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token.kind === 'positional') {
      parsed.positionals.push(token.value);
      continue;
    }
    if (token.kind !== 'option') continue;
    const spec = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
    if (spec === undefined) {
      throw new UsageError(`unknown option '${token.rawName}' for '${command.name}': valid options are ${optionList(options)}`);
    }
    if (spec.type === 'boolean') {
      if (spec.optionalValue === true || booleanValues) {
        const next = tokens[i + 1];
        const word = token.value ?? (next?.kind === 'positional' && boolWord(next.value) !== undefined ? next.value : undefined);
        if (word !== undefined && token.value === undefined) i++;
        const value = word === undefined ? true : boolWord(word);
        if (value === undefined) throw new UsageError(`option --${token.name} takes true or false (got '${word}')`);
        parsed.values[token.name] = value;
        continue;
      }
      if (token.value !== undefined) throw new UsageError(`option --${token.name} takes no value (got '${token.value}')`);
      parsed.values[token.name] = true;
      continue;
    }
    const choices = spec.choices === undefined ? '' : `: one of ${spec.choices.join(', ')}`;
    if (token.value === undefined) throw new UsageError(`option --${token.name} needs a value${choices}`);
    if (spec.choices !== undefined && !spec.choices.includes(token.value)) {
      throw new UsageError(`unknown ${token.name} '${token.value}': choose one of ${spec.choices.join(', ')}`);
    }
    parsed.values[token.name] = token.value;
  }
  return parsed;
}
