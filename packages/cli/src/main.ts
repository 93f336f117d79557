import packageJson from '../package.json';
import { parseCommandArgs } from './args';
import { COMMANDS } from './commands';
import type { Command } from './commands/command';
import { commandHelp, programHelp } from './help';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, type CliIo } from './io';

const PROGRAM_OPTIONS = ['--help', '--version'];

/**
 * Runs `qsattn` with the arguments after the program name and returns the exit status. Everything the command
 * prints goes to `io`; errors become one line on stderr (`QSATTN_DEBUG=1` adds the stack trace).
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let command: Command | undefined;
  try {
    const [first, ...rest] = argv;
    if (first === undefined) {
      io.stderr.write(programHelp(COMMANDS));
      return EXIT_USAGE;
    }
    if (first === '--help' || first === '-h') {
      io.stdout.write(programHelp(COMMANDS));
      return EXIT_OK;
    }
    if (first === '--version') {
      io.stdout.write(`${packageJson.version}\n`);
      return EXIT_OK;
    }
    const commandNames = COMMANDS.map((c) => c.name).join(', ');
    if (first.startsWith('-')) {
      throw new UsageError(`unknown option '${first}': valid options are ${PROGRAM_OPTIONS.join(', ')}, or a command: ${commandNames}`);
    }
    command = COMMANDS.find((c) => c.name === first);
    if (command === undefined) throw new UsageError(`unknown command '${first}': valid commands are ${commandNames}`);
    const args = parseCommandArgs(command, rest);
    if (args.values.help === true) {
      io.stdout.write(commandHelp(command));
      return EXIT_OK;
    }
    return await command.run(args, io);
  } catch (err) {
    const prefix = command === undefined ? 'qsattn' : `qsattn ${command.name}`;
    const message = err instanceof Error ? err.message : String(err);
    io.stderr.write(`${prefix}: ${message.split('\n')[0]}\n`);
    if (io.debug && err instanceof Error && err.stack !== undefined) io.stderr.write(`${err.stack}\n`);
    return err instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
  }
}
