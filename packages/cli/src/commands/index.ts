import type { Command } from './command';
import { conformanceCommand } from './conformance';
import { convertCommand } from './convert';
import { datasetsCommand } from './datasets';
import { evalCommand } from './eval';
import { reportCommand } from './report';
import { fidCommand } from './fid';
import { testCommand } from './test';
import { trainCommand } from './train';
import { workerCommand } from './worker';

/** Every `qsattn` command, in the order `qsattn --help` lists them. */
export const COMMANDS: readonly Command[] = [trainCommand, testCommand, workerCommand, evalCommand, fidCommand, reportCommand, convertCommand, datasetsCommand, conformanceCommand];
