import { describeBackendChoice, writeSafetensors } from '@qsattn/core';
import { runConformance } from '@qsattn/cut-model';
import { float64Companion, readFixture, readInputFile } from '../fixture-file';
import { formatReport } from '../format-report';
import { BACKEND_FLAGS, selectBackendFrom } from '../options/backend-flags';
import { EXIT_FAILURE, EXIT_OK, UsageError } from '../io';
import { writeFileAtomic } from '../write-file';
import type { Command } from './command';

export const conformanceCommand: Command = {
  name: 'conformance',
  summary: 'replay recorded official training steps and compare every value with SPEC tolerances',
  usage: 'FIXTURE.safetensors [...] [--backend NAME] [--json]',
  description: [
    'Replays the official training step recorded in each fixture (testdata/fixtures/qs_<mode>_64.safetensors)',
    'and prints, per group of recorded tensors, the largest error, its tolerance, how many tensors were',
    'compared and whether all are within tolerance. With --json each report is printed as one JSON line',
    '(errors that are infinite print as null) and the backend line goes to stderr.',
    '',
    'The recording\'s discrete choices are replayed, not compared: the random patch ids, the query selection of',
    'every QS layer (ours is checked separately by entropy: the select rows), and the branch of a ReLU or',
    'LeakyReLU whose input is within float32 rounding of 0 where the recorded gradients show the official step',
    'took the other one (each such unit is listed). Gradients that are float32 noise in the recording itself',
    'are judged against its float64 replay when one is given (--truth, or float64/NAME.safetensors beside it).',
    '',
    'Exit status: 0 if every group of every fixture passes, 1 if one fails or a file cannot be used,',
    '2 if the command line is wrong.',
  ].join('\n'),
  options: {
    ...BACKEND_FLAGS,
    json: { type: 'boolean', description: 'print each report as one JSON line instead of a table' },
    truth: {
      type: 'string',
      valueName: 'FILE',
      description:
        'with one fixture: its float64 replay (testdata/fixtures-extra/replay_float64.py --out), to judge gradients that are float32 noise in the recording itself; default: float64/NAME.safetensors beside the fixture, if there',
    },
    dump: {
      type: 'string',
      valueName: 'FILE',
      description:
        'with one fixture: also write our values of every recorded group to FILE (safetensors, the recording\'s key names and NCHW layout), e.g. for testdata/fixtures-extra/replay_float64.py --ours',
    },
  },

  async run({ positionals: files, values }, io) {
    if (files.length === 0) throw new UsageError('give at least one FIXTURE.safetensors file (e.g. testdata/fixtures/qs_local_64.safetensors)');
    const json = values.json === true;
    const dumpPath = typeof values.dump === 'string' ? values.dump : undefined;
    if (dumpPath !== undefined && files.length !== 1) throw new UsageError(`--dump writes one file: give exactly one FIXTURE (got ${files.length})`);
    const truthPath = typeof values.truth === 'string' ? values.truth : undefined;
    if (truthPath !== undefined && files.length !== 1) throw new UsageError(`--truth belongs to one recording: give exactly one FIXTURE (got ${files.length})`);
    if (truthPath !== undefined) readInputFile(truthPath);
    // Check every file before the first (seconds-long) run, so a typo in the last one fails at once.
    for (const file of files) readFixture(file);
    const choice = await selectBackendFrom(values);
    (json ? io.stderr : io.stdout).write(`${describeBackendChoice(choice)}\n`);
    let failed = 0;
    for (const file of files) {
      const bytes = readFixture(file);
      const start = performance.now();
      const truth = truthPath ?? float64Companion(file);
      const { dumped, ...report } = await runConformance(bytes, file, { dump: dumpPath !== undefined, truth: truth === undefined ? undefined : readInputFile(truth) });
      const seconds = (performance.now() - start) / 1000;
      if (dumpPath !== undefined && dumped) {
        await writeFileAtomic(dumpPath, writeSafetensors(dumped, { dump_of: file, backend: choice.name }, dumpPath));
      }
      if (!report.ok) failed++;
      io.stdout.write(json ? `${JSON.stringify({ ...report, backend: choice.name, seconds })}\n` : `\n${formatReport(report, seconds)}`);
    }
    if (!json && files.length > 1) io.stdout.write(`\n${files.length - failed} of ${files.length} fixtures passed\n`);
    return failed === 0 ? EXIT_OK : EXIT_FAILURE;
  },
};
