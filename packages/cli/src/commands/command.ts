import type { CliIo } from '../io';

/** One option of a command. Every command also takes `-h, --help`. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  description: string;
  short?: string;
  /** Placeholder for the value in help text (`--backend NAME`). */
  valueName?: string;
  /** The values a string option accepts; anything else is a usage error that lists them. */
  choices?: readonly string[];
  default?: string;
  /** A boolean that also takes `=true|false` or a following `true|false` word (the official `str2bool` flags). */
  optionalValue?: boolean;
}

export interface ParsedArgs {
  positionals: string[];
  /** Given options, by their name in the table: strings for string options, booleans for boolean ones. */
  values: Record<string, string | boolean | undefined>;
}

export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** What follows `qsattn <name>` in the usage line. */
  usage: string;
  /** Paragraphs for `qsattn <name> --help`. */
  description: string;
  options: Record<string, OptionSpec>;
  /** Returns the exit status. Throws UsageError / InputError for mistakes the user can fix. */
  run(args: ParsedArgs, io: CliIo): Promise<number>;
}
