import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describeBackendChoice } from '@qsattn/core';
import { formatEvaluation } from '../format-evaluation';
import { EXIT_OK, InputError, UsageError } from '../io';
import { selectBackendFrom } from '../options/backend-flags';
import { integerValue, stringValue } from '../options/cli-values';
import { folderImages, synthTestImages, testFolder, type TestImage } from '../run/datasets';
import { findModelSource, loadSourceGenerator, type ModelSource } from '../run/model-source';
import { evaluate } from '../run/translate-images';
import type { Command, ParsedArgs } from './command';
import { MODEL_SOURCE_OPTIONS, testPreprocess } from './test';

/** testA/ with its ground truth testA_target/ (same file names): --dataroot's, the run's, or the run's synthetic split. */
function scoredImages(values: ParsedArgs['values'], source: ModelSource, channels: 1 | 3): Promise<TestImage[]> | TestImage[] {
  const dataroot = stringValue(values, 'dataroot') ?? source.saved?.run.dataroot ?? null;
  if (dataroot === null) {
    if (source.saved?.synth) return synthTestImages(source.saved.synth, 'AtoB');
    throw new UsageError('give --dataroot DIR: a dataset with testA/ and testA_target/ (qsattn datasets synth --out DIR writes one)');
  }
  const targets = join(dataroot, 'testA_target');
  const inputs = testFolder(dataroot, 'AtoB');
  if (!existsSync(targets)) throw new InputError(`--dataroot ${dataroot}: no testA_target/ folder with the ground-truth translations of testA/`);
  return folderImages(inputs, channels, targets);
}

export const evalCommand: Command = {
  name: 'eval',
  summary: 'score a generator on a dataset with ground truth, beside the identity baseline',
  usage: '(--name NAME | --checkpoint FILE) [--dataroot DIR] [--json] [options]',
  description: [
    'Translates testA/ of a dataset that has testA_target/ (the ground-truth translations, as the built-in',
    'synthetic dataset has) and prints the mean PSNR and SSIM to the targets and the synthetic dataset\'s',
    'measures (content kept: IoU of object masks with the input; domain changed: stripe strength), for the model',
    'and for the identity (the untranslated input). A synthetic run of qsattn train is scored on its own test',
    'split without --dataroot. Preprocessing is the test-time one of qsattn test.',
  ].join('\n'),
  options: {
    ...MODEL_SOURCE_OPTIONS,
    'num-test': { type: 'string', valueName: 'N', description: 'score at most N images (default: all)' },
    json: { type: 'boolean', description: 'print the scores as one JSON line' },
  },

  async run({ values, positionals }, io) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}': give the dataset with --dataroot DIR`);
    const source = findModelSource(values);
    const preprocess = testPreprocess(values, source);
    const numTest = integerValue(values, 'num-test', 1);
    const json = values.json === true;
    const choice = await selectBackendFrom(values);
    (json ? io.stderr : io.stdout).write(`${describeBackendChoice(choice)}\n`);
    const { generator, options } = await loadSourceGenerator(source, values);
    try {
      const images = (await scoredImages(values, source, options.inputNc as 1 | 3)).slice(0, numTest);
      const result = await evaluate(generator, images, preprocess);
      io.stdout.write(json ? `${JSON.stringify({ source: source.path, ...result })}\n` : `${source.path}\n${formatEvaluation(result)}`);
      return EXIT_OK;
    } finally {
      generator.dispose();
    }
  },
};
