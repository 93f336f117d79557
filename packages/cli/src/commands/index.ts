import type { Command } from './command';
import { conformanceCommand } from './conformance';

/** Every `qsattn` command, in the order `qsattn --help` lists them. */
export const COMMANDS: readonly Command[] = [conformanceCommand];
