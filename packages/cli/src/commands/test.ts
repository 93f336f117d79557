import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { EXIT_FAILURE, EXIT_OK, UsageError, type CliIo } from '../io';
import { BACKEND_FLAGS } from '../options/backend-flags';
import { integerValue, stringValue } from '../options/cli-values';
import { DATA_FLAGS, MODEL_FLAGS, parseOfficialFlags } from '../options/model-flags';
import { RUN_DEFAULTS } from '../options/run-options';
import { folderImages, synthTestImages, testFolder, type TestImage, type TestPreprocess } from '../run/datasets';
import { findModelSource, type ModelSource } from '../run/model-source';
import { ImagesProgressReporter } from '../progress';
import { startLocalTranslator, type ImageTranslator } from '../scale/local-translator';
import { loadSpec, modelSpec, splitCores, type ModelInfo, type ModelSpec } from '../scale/model-spec';
import { QUEUE_FLAGS, queueSettings } from '../scale/queue-flags';
import { translateThroughQueue } from '../scale/queue-producer';
import { ResultsFolder, translationFingerprint } from '../scale/results-folder';
import { translateSet, type ImageFailure, type SetProgress } from '../scale/translate-set';
import { explainResults } from '../run/explain';
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

/** Lists the images that failed on stderr, one a line, and gives the exit status. */
export function reportFailures(failures: readonly ImageFailure[], io: CliIo): number {
  if (failures.length === 0) return EXIT_OK;
  for (const { name, reason } of failures) io.stderr.write(`qsattn test: ${name} failed: ${reason}\n`);
  io.stderr.write(`qsattn test: ${failures.length} image${failures.length === 1 ? '' : 's'} failed; fix or remove ${failures.length === 1 ? 'it' : 'them'} and run the same command again to translate only what is missing\n`);
  return EXIT_FAILURE;
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
    '',
    'Images are translated on --workers threads at once (default one per core); file names and the index are',
    'as with one. Running the same command again translates only the images whose results are missing',
    '(translations.json records the model they came from). An image that cannot be read is reported with its',
    'reason at the end, after the others, and the exit status is 1.',
    '',
    'With --queue redis://HOST:PORT the images go as one BullMQ job each to `qsattn worker` processes on any',
    'machines, and the results come back through Redis; the weights are published there once. A worker',
    'killed mid-job has its job retried by another. Redis unreachable for --queue-timeout stops the command',
    'with an error; what was written is whole, and the same command again translates the rest.',
    '',
    '--explain adds, per image and QS layer, the selection maps: the attention entropy of every position with the',
    'selected queries outlined, and the attention of the lowest-entropy query (images/layerN_entropy/, _attention/).',
  ].join('\n'),
  options: {
    ...MODEL_SOURCE_OPTIONS,
    'results-dir': { type: 'string', valueName: 'DIR', description: 'where results go (default ./results) (--results_dir)' },
    'num-test': { type: 'string', valueName: 'N', description: 'translate at most N images (default 50) (--num_test)' },
    ...QUEUE_FLAGS,
    'send-paths': { type: 'boolean', description: 'with --queue: jobs name the image files instead of carrying them (for workers that share the file system; they read only under their --roots)' },
    'in-flight': { type: 'string', valueName: 'N', description: 'with --queue: jobs in the queue at once (default 64)' },
    threads: { ...BACKEND_FLAGS.threads, description: 'threads of the wasm backend in each worker (default: cores / workers, so together they use every core)' },
    workers: {
      type: 'string',
      valueName: 'N',
      description: `translating workers (threads), each with the model loaded once (default one per core: ${availableParallelism()} here, each with --threads 1; with --threads T, cores / T)`,
    },
    explain: { type: 'boolean', description: "show what QS-Attn selects: each image's selection maps (entropy, selected queries, one query's attention) beside its translation" },
  },

  async run({ positionals, values }, io: CliIo) {
    const source = findModelSource(values);
    const preprocess = testPreprocess(values, source);
    const numTest = integerValue(values, 'num-test', 1) ?? 50;
    const queue = queueSettings(values);
    const strayQueueOption = ['send-paths', 'in-flight'].find((name) => values[name] !== undefined);
    if (queue === null && strayQueueOption !== undefined) throw new UsageError(`--${strayQueueOption} needs --queue URL`);
    if (queue !== null && values.workers !== undefined) {
      throw new UsageError('--workers is for this machine; with --queue, start `qsattn worker --queue URL --workers N` on each machine instead');
    }
    const { workers, threads } = splitCores(integerValue(values, 'workers', 1), integerValue(values, 'threads', 1));
    const spec: ModelSpec = { ...modelSpec(source, values), threads };
    let translator: ImageTranslator | null = null;
    let info: ModelInfo;
    if (queue === null) {
      translator = await startLocalTranslator(spec, workers);
      info = translator.info;
      io.stdout.write(`${info.backend}\n`);
    } else {
      // Loaded here once only to check the weights and read the architecture before anything is queued.
      const { loaded, info: checked } = await loadSpec({ ...spec, backend: 'cpu' });
      loaded.generator.dispose();
      info = checked;
    }
    try {
      const images = (await testImages(values, positionals, source, info.options.inputNc as 1 | 3)).slice(0, numTest);
      const dir = join(stringValue(values, 'results-dir') ?? './results', source.name, `test_${source.epoch}`);
      const names = images.map((image) => image.name);
      const results = await ResultsFolder.open(dir, translationFingerprint(spec, preprocess), names);
      const missing = images.map((image, index) => ({ image, index })).filter(({ image }) => !results.has(image.name));
      const kept = images.length - missing.length;
      const where = queue === null ? `on ${workers} worker${workers === 1 ? '' : 's'}` : `through queue ${queue.queueName} at ${queue.connection.display}`;
      io.stdout.write(
        `${source.path} (${info.kind === 'checkpoint' ? `checkpoint, step ${info.step}` : 'weights'}; ngf ${info.options.ngf}, ${info.options.netG}): ` +
          `translating ${missing.length} images (${preprocess.preprocess}, crop size ${preprocess.cropSize}) ${where}` +
          (kept > 0 ? `; ${kept} already translated` : '') +
          '\n',
      );
      const progress = new ImagesProgressReporter(io.stdout);
      const onProgress = (p: SetProgress): void => progress.update(p);
      const title = `${source.name}, epoch ${source.epoch}`;
      let failures: ImageFailure[];
      const started = performance.now();
      try {
        failures =
          queue === null
            ? await translateSet(missing, preprocess, {
                translate: (image) => translator!.translate(image),
                concurrency: translator!.concurrency,
                use: ({ name, input, output }) => results.write(name, input, output),
                onProgress,
              })
            : await translateThroughQueue(missing, {
                ...queue,
                spec,
                preprocess,
                inputNc: info.options.inputNc as 1 | 3,
                sendPaths: values['send-paths'] === true,
                window: integerValue(values, 'in-flight', 1) ?? 64,
                use: (name, result) => results.writeEncoded(name, Buffer.from(result.realA, 'base64'), Buffer.from(result.fakeB, 'base64')),
                onProgress,
              });
      } catch (err) {
        // Whatever stopped the run, what was translated is whole and indexed; a rerun does the rest.
        progress.finish();
        await results.writeIndex(title, names.filter((name) => results.has(name)));
        throw err;
      }
      progress.finish();
      const done = images.filter((image) => results.has(image.name));
      const columns = values.explain === true ? await explainResults(dir, done, preprocess, source, values, io) : undefined;
      const index = await results.writeIndex(title, done.map((image) => image.name), columns);
      const seconds = (performance.now() - started) / 1000;
      const translated = missing.length - failures.length;
      const rate = translated > 0 ? ` in ${seconds.toFixed(1)} s (${(translated / seconds).toFixed(2)} images/s)` : '';
      io.stdout.write(`wrote ${translated} translations${rate}${kept > 0 ? ` (${kept} kept from before)` : ''} and ${index}\n`);
      return reportFailures(failures, io);
    } finally {
      await translator?.close();
    }
  },
};
