import { commandOptions } from './args';
import type { Command } from './commands/command';
import { alignColumns } from './format-table';

export function programHelp(commands: readonly Command[]): string {
  return [
    'Usage: qsattn <command> [options]',
    '',
    'Commands:',
    ...alignColumns(commands.map((c) => [c.name, c.summary])).map((line) => `  ${line}`),
    '',
    'Options:',
    ...alignColumns([
      ['-h, --help', 'show this help'],
      ['--version', 'print the version'],
    ]).map((line) => `  ${line}`),
    '',
    "Run 'qsattn <command> --help' for a command's options.",
    '',
  ].join('\n');
}

export function commandHelp(command: Command): string {
  const options = Object.entries(commandOptions(command)).map(([name, spec]) => {
    const flag = `${spec.short === undefined ? '' : `-${spec.short}, `}--${name}${spec.valueName === undefined ? '' : ` ${spec.valueName}`}`;
    const choices = spec.choices === undefined ? '' : ` (${spec.choices.join(', ')}${spec.default === undefined ? '' : `; default ${spec.default}`})`;
    return [flag, spec.description + choices];
  });
  return [
    `Usage: qsattn ${command.name} ${command.usage}`,
    '',
    command.description,
    '',
    'Options:',
    ...alignColumns(options).map((line) => `  ${line}`),
    '',
  ].join('\n');
}
