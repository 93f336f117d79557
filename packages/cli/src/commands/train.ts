import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describeBackendChoice } from '@qsattn/core';
import { CutModel, type ModelOptions } from '@qsattn/cut-model';
import { UnalignedLoader, type UnalignedLoaderState } from '@qsattn/data';
import { formatEvaluation, formatSynthGoals } from '../format-evaluation';
import { EXIT_OK, InputError, UsageError, type CliIo } from '../io';
import { selectBackendFrom, BACKEND_FLAGS } from '../options/backend-flags';
import { readConfigFile, integerValue, stringValue } from '../options/cli-values';
import { DATA_FLAGS, MODEL_FLAGS, parseOfficialFlags } from '../options/model-flags';
import {
  defaultRunName,
  resolveModel,
  RUN_DEFAULTS,
  RUN_OPTIONS_FORMAT,
  synthOptionsFor,
  TRAIN_PRESET_NAMES,
  TRAIN_PRESETS,
  type RunOptions,
  type SavedRunOptions,
  type TrainPreset,
} from '../options/run-options';
import { formatDuration, ProgressReporter, type ProgressSink } from '../progress';
import { folderImages, openTrainingSet, synthTestImages, testFolder, type TestImage } from '../run/datasets';
import { loadRunCheckpoint } from '../run/run-checkpoint';
import { RunFolder } from '../run/run-folder';
import { totalSteps, trainLoop, type TrainEvent } from '../run/train-loop';
import { evaluate } from '../run/translate-images';
import { RunViews, snapshotSamples } from '../run/run-views';
import type { Command, OptionSpec, ParsedArgs } from './command';
import type { StepEntry } from '@qsattn/viz';
import { startDashboard } from '@qsattn/viz/node';

/** Exit status of a run stopped by Ctrl-C after saving (128 + SIGINT, as shells report it). */
export const EXIT_INTERRUPTED = 130;

const RUN_FLAGS: Record<string, OptionSpec> = {
  preset: {
    type: 'string',
    valueName: 'NAME',
    choices: TRAIN_PRESET_NAMES,
    description: 'start from a preset (default: synth-quick without --dataroot, else the official defaults)',
  },
  'cut-mode': { type: 'string', valueName: 'MODE', choices: ['CUT', 'cut', 'FastCUT', 'fastcut'], description: 'the official preset flag: same as --preset cut|fastcut (--CUT_mode)' },
  config: { type: 'string', valueName: 'FILE', description: 'a JSON object of options ({"QS_mode": "global", "ngf": 16}); the command line overrides it' },
  ...BACKEND_FLAGS,
  seed: { type: 'string', valueName: 'N', description: 'seed of weight init, patch sampling and data order (default 0)' },
  'checkpoints-dir': { type: 'string', valueName: 'DIR', description: 'where run folders go (default ./checkpoints) (--checkpoints_dir)' },
  'max-dataset-size': { type: 'string', valueName: 'N', description: 'use at most N images per domain (--max_dataset_size)' },
  'save-epoch-freq': { type: 'string', valueName: 'N', description: 'keep a numbered checkpoint every N epochs (default 5) (--save_epoch_freq)' },
  'save-latest-freq': { type: 'string', valueName: 'N', description: "save 'latest' every N images as well (default 5000) (--save_latest_freq)" },
  'print-freq': { type: 'string', valueName: 'N', description: 'without a terminal, print a progress line every N images (default 100) (--print_freq)' },
  'max-steps': { type: 'string', valueName: 'N', description: "stop at step N, saving 'latest' (continue later with --resume)" },
  resume: { type: 'boolean', description: "continue the run NAME from its 'latest' checkpoint, with its saved options" },
  'continue-train': { type: 'boolean', description: 'the official spelling of --resume (--continue_train)' },
  dashboard: { type: 'boolean', description: 'show the run live in a browser: curves, images, selection maps, progress (replaces visdom)' },
  port: { type: 'string', valueName: 'N', description: "the dashboard's port on 127.0.0.1 (default 8097; 0: any free port) (--display_port)" },
};

/** Options a resumed run may still be given: where it is, how it runs, how it reports. */
const RESUME_OPTIONS = ['name', 'checkpoints-dir', 'backend', 'threads', 'print-freq', 'max-steps', 'resume', 'continue-train', 'dashboard', 'port', 'help'];

export const trainCommand: Command = {
  name: 'train',
  summary: 'train CUT / QS-Attn on an image folder or the built-in synthetic dataset',
  usage: '[--dataroot DIR] [--name NAME] [--preset NAME] [official options] [--resume]',
  description: [
    'Trains as the official train.py does and takes its options, in kebab-case or the official snake_case',
    '(--QS_mode=global and --qs-mode global are the same). Without --dataroot it trains the synth-quick preset on',
    'the built-in synthetic dataset (made in memory at the crop size) and prints its scores at the end.',
    '',
    'Options are layered: the official defaults, then --preset (or --CUT_mode), then --config FILE, then the',
    'command line. The run folder CHECKPOINTS_DIR/NAME holds options.json, log.jsonl (losses and timings per',
    'step), latest_checkpoint.safetensors (after every epoch, every --save_latest_freq images, at --max_steps',
    'and on Ctrl-C) and <epoch>_checkpoint.safetensors. --resume continues from latest exactly as if the run',
    'had not stopped.',
    '',
    'The run report, NAME/web/index.html (curves, image grids and what QS-Attn selects at each checkpoint, options',
    'and timings), is rewritten at every checkpoint; open it from disk. --dashboard serves the same, live, on',
    'http://127.0.0.1:8097/ while the run goes.',
    '',
    'Exit status: 0 done (or stopped at --max_steps), 1 an input could not be used, 2 the command line is wrong,',
    '130 stopped by Ctrl-C after saving.',
  ].join('\n'),
  options: { ...DATA_FLAGS, ...MODEL_FLAGS, ...RUN_FLAGS },
  run: (args, io) => train(args, io),
};

interface TrainSetup {
  folder: RunFolder;
  saved: SavedRunOptions;
  /** The checkpoint to continue from (resume). */
  resumeFrom?: string;
}

/** The options of a new run: defaults, preset, then the given flags. */
function newRunOptions(values: ParsedArgs['values']): SavedRunOptions {
  const cutMode = stringValue(values, 'cut-mode')?.toLowerCase();
  let preset = stringValue(values, 'preset') ?? null;
  if (cutMode !== undefined) {
    if (preset !== null) throw new UsageError('give --preset or --CUT_mode, not both');
    preset = cutMode;
  }
  const flags = parseOfficialFlags(values);
  const dataroot = flags.run.dataroot ?? null;
  if (preset === null && dataroot === null) preset = 'synth-quick';
  const base: Pick<TrainPreset, 'model' | 'run'> = preset === null ? { model: {}, run: {} } : TRAIN_PRESETS[preset];
  const model: ModelOptions = resolveModel(base.model, flags.model);
  const f = flags.run;
  const pick = <K extends keyof RunOptions>(key: K, value: RunOptions[K] | undefined): RunOptions[K] =>
    value ?? (base.run[key] as RunOptions[K] | undefined) ?? (RUN_DEFAULTS as RunOptions)[key];
  const run: RunOptions = {
    dataroot,
    direction: pick('direction', f.direction as RunOptions['direction'] | undefined),
    name: f.name ?? base.run.name ?? defaultRunName(dataroot),
    checkpointsDir: pick('checkpointsDir', stringValue(values, 'checkpoints-dir')),
    batchSize: pick('batchSize', f.batchSize),
    loadSize: pick('loadSize', f.loadSize),
    cropSize: pick('cropSize', f.cropSize),
    preprocess: pick('preprocess', f.preprocess as RunOptions['preprocess'] | undefined),
    flip: pick('flip', values['no-flip'] === undefined ? undefined : !f.noFlip),
    serialBatches: pick('serialBatches', values['serial-batches'] === undefined ? undefined : f.serialBatches),
    maxDatasetSize: pick('maxDatasetSize', integerValue(values, 'max-dataset-size', 1)),
    saveEpochFreq: pick('saveEpochFreq', integerValue(values, 'save-epoch-freq', 1)),
    saveLatestFreq: pick('saveLatestFreq', integerValue(values, 'save-latest-freq', 1)),
    printFreq: pick('printFreq', integerValue(values, 'print-freq', 1)),
    seed: pick('seed', integerValue(values, 'seed', 0)),
  };
  if (!Number.isInteger(run.batchSize) || run.batchSize < 1) throw new UsageError(`option --batch-size needs an integer ≥ 1, got ${run.batchSize}`);
  return {
    format: RUN_OPTIONS_FORMAT,
    preset,
    model,
    run,
    synth: dataroot === null ? synthOptionsFor(run) : null,
    given: Object.fromEntries(Object.entries(values).filter((entry): entry is [string, string | boolean] => entry[1] !== undefined)),
  };
}

function setUp(values: ParsedArgs['values']): TrainSetup {
  const resume = values.resume === true || values['continue-train'] === true;
  if (!resume) {
    const saved = newRunOptions(values);
    const folder = RunFolder.of(saved.run.checkpointsDir, saved.run.name);
    if (existsSync(folder.checkpointPath('latest')) || folder.hasOptions()) {
      throw new UsageError(`${folder.dir} already holds a run: continue it with --resume, choose another --name, or delete the folder`);
    }
    return { folder, saved };
  }
  const extra = Object.keys(values).filter((name) => values[name] !== undefined && !RESUME_OPTIONS.includes(name));
  if (extra.length > 0) {
    throw new UsageError(`--resume continues a run with its saved options; drop --${extra[0]} (or start a new run with another --name)`);
  }
  const name = stringValue(values, 'name') ?? defaultRunName(null);
  const folder = RunFolder.of(stringValue(values, 'checkpoints-dir') ?? RUN_DEFAULTS.checkpointsDir, name);
  const latest = folder.checkpointPath('latest');
  if (!folder.hasOptions() || !existsSync(latest)) {
    throw new InputError(`cannot resume ${folder.dir}: no ${folder.hasOptions() ? 'latest_checkpoint.safetensors' : 'options.json'} there (start the run without --resume)`);
  }
  const saved = folder.readOptions();
  const printFreq = integerValue(values, 'print-freq', 1);
  if (printFreq !== undefined) saved.run.printFreq = printFreq;
  return { folder, saved, resumeFrom: latest };
}

/** The test images a finished run is scored on: the synthetic test split, or dataroot's testA/ with testA_target/. */
async function scoringImages(saved: SavedRunOptions): Promise<TestImage[] | null> {
  const { run, synth, model } = saved;
  if (synth !== null) return synthTestImages(synth, run.direction);
  if (run.dataroot === null || run.direction !== 'AtoB') return null;
  const targets = join(run.dataroot, 'testA_target');
  if (!existsSync(targets) || !existsSync(join(run.dataroot, 'testA'))) return null;
  return folderImages(testFolder(run.dataroot, 'AtoB'), model.inputNc as 1 | 3, targets);
}

async function train({ values }: ParsedArgs, io: CliIo): Promise<number> {
  const configPath = stringValue(values, 'config');
  if (configPath !== undefined) values = { ...readConfigFile(trainCommand, configPath, ['config', 'resume', 'continue-train']), ...values };
  const { folder, saved, resumeFrom } = setUp(values);
  const maxSteps = integerValue(values, 'max-steps', 1);
  const { run } = saved;

  const choice = await selectBackendFrom(values);
  io.stdout.write(`${describeBackendChoice(choice)}\n`);

  // The dataset is opened before anything is written, so that a bad --dataroot leaves no run folder behind.
  const dataset = await openTrainingSet(run, saved.model, saved.synth);
  const samples = await snapshotSamples(dataset, saved);
  if (values.dashboard !== true && values.port !== undefined) throw new UsageError("--port is the dashboard's: give --dashboard as well");
  const port = integerValue(values, 'port', 0) ?? 8097;
  const dashboard =
    values.dashboard === true
      ? await startDashboard({ title: `qsattn run ${run.name}`, port }).catch((err: Error) => {
          throw new InputError(err.message);
        })
      : null;
  let model: CutModel;
  let loaderState: UnalignedLoaderState | null = null;
  try {
    if (resumeFrom !== undefined) {
      ({ model, loader: loaderState } = await loadRunCheckpoint(resumeFrom));
      await folder.truncateLog(model.step);
    } else {
      mkdirSync(folder.dir, { recursive: true });
      await folder.writeOptions(saved);
      model = new CutModel(saved.model, { seed: run.seed });
    }
  } catch (err) {
    await dashboard?.close();
    throw err;
  }
  const views = new RunViews(folder, saved, model, samples, (message) => io.stderr.write(`warning: ${message}\n`), dashboard);
  if (dashboard !== null) io.stdout.write(`dashboard: ${dashboard.url}\n`);
  try {
    const loader = new UnalignedLoader(dataset, { batchSize: run.batchSize, seed: run.seed });
    if (loaderState !== null) loader.setState(loaderState);
    const total = totalSteps(model, loader);
    const stopStep = Math.min(total, maxSteps ?? Infinity);
    const what = run.dataroot === null ? `the built-in synthetic dataset (${dataset.sizeA} + ${dataset.sizeB} images of ${run.cropSize} px)` : `${run.dataroot} (${dataset.sizeA} A, ${dataset.sizeB} B images)`;
    io.stdout.write(
      `${resumeFrom === undefined ? 'training' : `resuming at step ${model.step}:`} ${folder.dir}${saved.preset === null ? '' : ` (preset ${saved.preset})`} on ${what}: ${total} steps, ${loader.batchesPerEpoch} per epoch\n`,
    );
    folder.appendLog({ event: 'start', step: model.step, totalSteps: total, resumed: resumeFrom !== undefined, backend: choice.name, ...(choice.adapter ? { adapter: choice.adapter } : {}), time: new Date().toISOString() });
    if (model.step >= stopStep) {
      io.stdout.write(`nothing to do: the run is at step ${model.step} of ${total}${maxSteps === undefined ? '' : ` (--max_steps ${maxSteps})`}\n`);
      return EXIT_OK;
    }

    const progress = new ProgressReporter(io.stdout as ProgressSink, run.printFreq, stopStep);
    let stop = false;
    const onInterrupt = (): void => {
      stop = true;
      progress.message('stopping after this step (Ctrl-C again to quit without saving)…');
      process.removeListener('SIGINT', onInterrupt);
    };
    process.on('SIGINT', onInterrupt);
    const started = performance.now();
    const startStep = model.step;
    const onEvent = (e: TrainEvent): Promise<void> => {
      let entry: StepEntry | undefined;
      if (e.type === 'step') {
        entry = { event: 'step', step: e.step, epoch: e.epoch, epochStep: e.epochStep, lr: e.lr, ...e.losses, dataSeconds: e.dataSeconds, stepSeconds: e.stepSeconds };
        folder.appendLog(entry);
        progress.step(e);
      } else if (e.type === 'checkpoint') {
        folder.appendLog({ event: 'checkpoint', step: e.step, epoch: e.epoch, path: e.path, reason: e.reason });
      } else {
        folder.appendLog({ event: 'epoch', step: e.step, epoch: e.epoch, seconds: e.seconds, lr: e.lr });
        if (!progress.tty) io.stdout.write(`end of epoch ${e.epoch} (step ${e.step}, ${formatDuration(e.seconds)})\n`);
      }
      return views.handle(e, entry);
    };
    let end;
    try {
      end = await trainLoop(model, loader, folder, {
        saveEpochFreq: run.saveEpochFreq,
        saveLatestFreq: run.saveLatestFreq,
        batchSize: run.batchSize,
        maxSteps,
        stopRequested: () => stop,
        onEvent,
      });
    } catch (err) {
      // The training error is what the user must see: the report only notes it, quietly.
      progress.finish();
      await views.finish('failed', `failed at step ${model.step}: ${(err as Error).message.split('\n')[0]}`);
      throw err;
    } finally {
      process.removeListener('SIGINT', onInterrupt);
      progress.finish();
    }
    const seconds = (performance.now() - started) / 1000;
    const steps = model.step - startStep;
    const timing = `${steps} steps in ${formatDuration(seconds)} (${(steps / seconds).toFixed(2)} it/s)`;
    if (end !== 'done') {
      await views.finish('stopped', `${end === 'stopped' ? 'stopped (Ctrl-C)' : 'reached --max_steps'} at step ${model.step} of ${total}; continue with --resume`);
      io.stdout.write(`report: ${views.report.pagePath}\n`);
      io.stdout.write(
        `${end === 'stopped' ? 'stopped' : 'reached --max_steps'} at step ${model.step} of ${total} after ${timing}; saved ${folder.checkpointPath('latest')}\n` +
          `continue with: qsattn train --name ${run.name}${run.checkpointsDir === RUN_DEFAULTS.checkpointsDir ? '' : ` --checkpoints_dir ${run.checkpointsDir}`} --resume\n`,
      );
      return end === 'stopped' ? EXIT_INTERRUPTED : EXIT_OK;
    }
    io.stdout.write(`done: ${timing}; checkpoints in ${folder.dir}\n`);
    const images = await scoringImages(saved);
    if (images !== null) {
      const evalStart = performance.now();
      const result = await evaluate(model.netG, images, { preprocess: run.preprocess, cropSize: run.cropSize });
      folder.appendLog({ event: 'eval', step: model.step, ...result, seconds: (performance.now() - evalStart) / 1000 });
      io.stdout.write(`\nscores on the test split, model vs the untranslated input:\n${formatEvaluation(result)}`);
      if (run.dataroot === null) io.stdout.write(formatSynthGoals(result.model));
    }
    await views.finish('done', `finished: ${timing}`);
    io.stdout.write(`report: ${views.report.pagePath}\n`);
    return EXIT_OK;
  } finally {
    await dashboard?.close();
    model.dispose();
  }
}
