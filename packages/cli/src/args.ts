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

/**
 * Parses a command's arguments. node:util's own strict-mode errors are replaced by one line that names the
 * offending option and the valid ones; string options with `choices` are checked here.
 */
export function parseCommandArgs(command: Command, argv: readonly string[]): ParsedArgs {
  const options = commandOptions(command);
  const config = Object.fromEntries(
    Object.entries(options).map(([name, spec]) => [name, spec.short === undefined ? { type: spec.type } : { type: spec.type, short: spec.short }]),
  );
  const { tokens } = parseArgs({ args: [...argv], options: config, allowPositionals: true, strict: false, tokens: true });
  const parsed: ParsedArgs = { positionals: [], values: {} };
  for (const token of tokens) {
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
