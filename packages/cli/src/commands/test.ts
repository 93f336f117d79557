import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describeBackendChoice } from '@qsattn/core';
import { writePng } from '@qsattn/data';
import { EXIT_OK, UsageError, type CliIo } from '../io';
import { BACKEND_FLAGS, selectBackendFrom } from '../options/backend-flags';
import { integerValue, stringValue } from '../options/cli-values';
import { DATA_FLAGS, MODEL_FLAGS, parseOfficialFlags } from '../options/model-flags';
import { RUN_DEFAULTS } from '../options/run-options';
import { folderImages, synthTestImages, testFolder, type TestImage, type TestPreprocess } from '../run/datasets';
import { resultsPage, type IndexRow } from '../run/html-index';
import { findModelSource, loadSourceGenerator, type ModelSource } from '../run/model-source';
import { translateAll } from '../run/translate-images';
import { writeFileAtomic } from '../write-file';
import type { Command, OptionSpec, ParsedArgs } from './command';

/** Options of the commands that load a trained generator (`test`, `eval`). */
export const MODEL_SOURCE_OPTIONS: Record<string, OptionSpec> = {
  name: DATA_FLAGS.name,
  'checkpoints-dir': { type: 'string', valueName: 'DIR', description: 'where run folders are (default ./checkpoints) (--checkpoints_dir)' },
  epoch: { type: 'string', valueName: 'EPOCH', description: "which checkpoint of the run: 'latest' (default) or an epoch number" },
  checkpoint: { type: 'string', valueName: 'FILE', description: 'a checkpoint of ours, an official *_net_G.pth, or a safetensors state dict, instead of --name' },
  dataroot: DATA_FLAGS.dataroot,
  direction: DATA_FLAGS.direction,
  preprocess: { ...DATA_FLAGS.preprocess, description: "test-time preprocessing: resize to crop size ('none' keeps each image's size) (--preprocess)" },
  'crop-size': DATA_FLAGS['crop-size'],
  ...BACKEND_FLAGS,
  ...MODEL_FLAGS,
};

/** The test-time preprocessing: the flags, else the run's, else the official defaults. */
export function testPreprocess(values: ParsedArgs['values'], source: ModelSource): TestPreprocess {
  const { run } = parseOfficialFlags(values);
  const saved = source.saved?.run;
  return {
    preprocess: (run.preprocess as TestPreprocess['preprocess'] | undefined) ?? saved?.preprocess ?? RUN_DEFAULTS.preprocess,
    cropSize: run.cropSize ?? saved?.cropSize ?? RUN_DEFAULTS.cropSize,
  };
}

/** The images to translate: the given path, else --dataroot's (or the run's) test folder, else the run's synthetic test split. */
async function testImages(values: ParsedArgs['values'], positionals: string[], source: ModelSource, channels: 1 | 3): Promise<TestImage[]> {
  if (positionals.length > 1) throw new UsageError(`give one image or folder to translate, got ${positionals.length}: ${positionals.join(', ')}`);
  const direction = (stringValue(values, 'direction') as 'AtoB' | 'BtoA' | undefined) ?? source.saved?.run.direction ?? 'AtoB';
  if (positionals.length === 1) return folderImages(positionals[0], channels);
  const dataroot = stringValue(values, 'dataroot') ?? source.saved?.run.dataroot ?? null;
  if (dataroot !== null) return folderImages(testFolder(dataroot, direction), channels);
  if (source.saved?.synth) return synthTestImages(source.saved.synth, direction);
  throw new UsageError('give the images to translate: an image or folder, or --dataroot DIR (its testA/ is translated)');
}

export const testCommand: Command = {
  name: 'test',
  summary: 'translate test images with a trained generator and write them with an index.html',
  usage: '[IMAGE|FOLDER] (--name NAME | --checkpoint FILE) [--results_dir DIR] [options]',
  description: [
    'Translates testA/ of --dataroot (testB/ for BtoA), or the image or folder given, with the official',
    'test-time preprocessing (resize to --crop_size; --preprocess none keeps each image\'s size), and writes',
    'RESULTS_DIR/NAME/test_EPOCH/images/{real_A,fake_B}/ and index.html, as the official test.py does.',
    '',
    'The generator is CHECKPOINTS_DIR/NAME/EPOCH_checkpoint.safetensors (a run of qsattn train), else the',
    'official EPOCH_net_G.pth there, or --checkpoint FILE. A run of qsattn train supplies the architecture,',
    'sizes and dataset from its options.json; for official weights the architecture is read from the',
    'weights\' shapes. Flags override either.',
  ].join('\n'),
  options: {
    ...MODEL_SOURCE_OPTIONS,
    'results-dir': { type: 'string', valueName: 'DIR', description: 'where results go (default ./results) (--results_dir)' },
    'num-test': { type: 'string', valueName: 'N', description: 'translate at most N images (default 50) (--num_test)' },
  },

  async run({ positionals, values }, io: CliIo) {
    const source = findModelSource(values);
    const preprocess = testPreprocess(values, source);
    const numTest = integerValue(values, 'num-test', 1) ?? 50;
    const choice = await selectBackendFrom(values);
    io.stdout.write(`${describeBackendChoice(choice)}\n`);
    const { generator, options, kind, step } = await loadSourceGenerator(source, values);
    try {
      const images = (await testImages(values, positionals, source, options.inputNc as 1 | 3)).slice(0, numTest);
      const dir = join(stringValue(values, 'results-dir') ?? './results', source.name, `test_${source.epoch}`);
      for (const sub of ['real_A', 'fake_B']) mkdirSync(join(dir, 'images', sub), { recursive: true });
      io.stdout.write(
        `${source.path} (${kind === 'checkpoint' ? `checkpoint, step ${step}` : 'weights'}; ngf ${options.ngf}, ${options.netG}): translating ${images.length} images (${preprocess.preprocess}, crop size ${preprocess.cropSize})\n`,
      );
      const rows: IndexRow[] = [];
      await translateAll(generator, images, preprocess, async ({ name, input, output }) => {
        const file = name.replace(/\.[^.]*$/, '') + '.png';
        const paths = [join('images', 'real_A', file), join('images', 'fake_B', file)];
        await writePng(join(dir, paths[0]), input);
        await writePng(join(dir, paths[1]), output);
        rows.push({ name, images: paths });
      });
      await writeFileAtomic(join(dir, 'index.html'), resultsPage(`${source.name}, epoch ${source.epoch}`, ['real_A', 'fake_B'], rows));
      io.stdout.write(`wrote ${rows.length} translations and ${join(dir, 'index.html')}\n`);
      return EXIT_OK;
    } finally {
      generator.dispose();
    }
  },
};
