import { BACKEND_NAMES, describeBackendChoice, selectBackend } from '@qsattn/core';
import { runConformance } from '@qsattn/cut-model';
import { readFixture } from '../fixture-file';
import { formatReport } from '../format-report';
import { EXIT_FAILURE, EXIT_OK, UsageError } from '../io';
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
    'Exit status: 0 if every group of every fixture passes, 1 if one fails or a file cannot be used,',
    '2 if the command line is wrong.',
  ].join('\n'),
  options: {
    backend: {
      type: 'string',
      valueName: 'NAME',
      choices: BACKEND_NAMES,
      default: 'auto',
      description: 'the TensorFlow.js backend to run on',
    },
    json: { type: 'boolean', description: 'print each report as one JSON line instead of a table' },
  },

  async run({ positionals: files, values }, io) {
    if (files.length === 0) throw new UsageError('give at least one FIXTURE.safetensors file (e.g. testdata/fixtures/qs_local_64.safetensors)');
    const json = values.json === true;
    const backend = typeof values.backend === 'string' ? values.backend : 'auto';
    // Check every file before the first (seconds-long) run, so a typo in the last one fails at once.
    for (const file of files) readFixture(file);
    const choice = await selectBackend(backend);
    (json ? io.stderr : io.stdout).write(`${describeBackendChoice(choice)}\n`);
    let failed = 0;
    for (const file of files) {
      const bytes = readFixture(file);
      const start = performance.now();
      const report = runConformance(bytes, file);
      const seconds = (performance.now() - start) / 1000;
      if (!report.ok) failed++;
      io.stdout.write(json ? `${JSON.stringify({ ...report, backend: choice.name, seconds })}\n` : `\n${formatReport(report, seconds)}`);
    }
    if (!json && files.length > 1) io.stdout.write(`\n${files.length - failed} of ${files.length} fixtures passed\n`);
    return failed === 0 ? EXIT_OK : EXIT_FAILURE;
  },
};
