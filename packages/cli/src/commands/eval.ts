import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describeBackendChoice } from '@qsattn/core';
import { synthDataset, type ByteImage } from '@qsattn/data';
import { formatEvaluation } from '../format-evaluation';
import { EXIT_OK, InputError, UsageError, type CliIo } from '../io';
import { selectBackendFrom } from '../options/backend-flags';
import { integerValue, stringValue } from '../options/cli-values';
import { folderImages, synthTestImages, testFolder, type TestImage, type TestPreprocess } from '../run/datasets';
import { measureFolder, measureImages, type MeasureOptions, type MeasuredSet } from '../run/fid-inputs';
import { FID_OPTIONS, compareSets, fidSettings, formatFidReport, openInception, type FidReport } from '../run/fid-report';
import { findModelSource, loadSourceGenerator, type ModelSource } from '../run/model-source';
import { ScoreSum, translateAll, type Evaluation, type Translator } from '../run/translate-images';
import type { Command, ParsedArgs } from './command';
import { MODEL_SOURCE_OPTIONS, testPreprocess } from './test';

type Direction = 'AtoB' | 'BtoA';

function direction(values: ParsedArgs['values'], source: ModelSource): Direction {
  return (stringValue(values, 'direction') as Direction | undefined) ?? source.saved?.run.direction ?? 'AtoB';
}

/**
 * The images to translate — testA/ (testB/ for BtoA) of --dataroot or the run's dataset, or the run's synthetic
 * split — with their ground truth (testA_target/, same file names) when the dataset has it. Without --fid the
 * ground truth is required.
 */
async function evalImages(values: ParsedArgs['values'], source: ModelSource, channels: 1 | 3, needTargets: boolean): Promise<TestImage[]> {
  const dataroot = stringValue(values, 'dataroot') ?? source.saved?.run.dataroot ?? null;
  const dir = direction(values, source);
  if (dataroot === null) {
    if (source.saved?.synth) return synthTestImages(source.saved.synth, needTargets ? 'AtoB' : dir);
    throw new UsageError('give --dataroot DIR: a dataset with testA/ (and testA_target/ for PSNR/SSIM; qsattn datasets synth --out DIR writes one)');
  }
  const inputs = testFolder(dataroot, needTargets ? 'AtoB' : dir);
  const targets = join(dataroot, 'testA_target');
  if (needTargets && !existsSync(targets)) {
    throw new InputError(`--dataroot ${dataroot}: no testA_target/ folder with the ground-truth translations of testA/ (--fid scores a dataset without one)`);
  }
  return folderImages(inputs, channels, !needTargets && (dir === 'BtoA' || !existsSync(targets)) ? undefined : targets);
}

/** The real images of the target domain (testB/, testA/ for BtoA) measured for FID: a folder (cached) or the synthetic split. */
async function measureRealTarget(values: ParsedArgs['values'], source: ModelSource, measure: MeasureOptions): Promise<MeasuredSet> {
  const dataroot = stringValue(values, 'dataroot') ?? source.saved?.run.dataroot ?? null;
  const dir = direction(values, source);
  if (dataroot === null) {
    const data = synthDataset(source.saved!.synth!);
    const real = (dir === 'BtoA' ? data.testA : data.testB).map(({ image }) => rgb(image));
    return measureImages(`real ${dir === 'BtoA' ? 'testA' : 'testB'}`, real.length, (i) => real[i], measure);
  }
  const folder = join(dataroot, dir === 'BtoA' ? 'testA' : 'testB');
  if (!existsSync(folder)) throw new InputError(`--dataroot ${dataroot}: no ${dir === 'BtoA' ? 'testA' : 'testB'}/ folder of real images to compare the translations with`);
  return measureFolder(folder, measure);
}

/** A translation as pytorch-fid reads a saved one: RGB (a gray image repeated into three channels). */
function rgb(image: ByteImage): ByteImage {
  if (image.channels === 3) return image;
  const data = new Uint8Array(image.width * image.height * 3);
  image.data.forEach((v, i) => data.fill(v, 3 * i, 3 * i + 3));
  return { width: image.width, height: image.height, channels: 3, data };
}

/** Translates the images once, scoring them against their targets (when they have them) and keeping the outputs. */
async function translateAndScore(translator: Translator, images: readonly TestImage[], preprocess: TestPreprocess) {
  const model = new ScoreSum();
  const identity = new ScoreSum();
  const outputs: ByteImage[] = [];
  let targets = 0;
  await translateAll(translator, images, preprocess, ({ input, output, target }) => {
    outputs.push(rgb(output));
    if (target === undefined) return;
    targets++;
    model.add(output, input, target);
    identity.add(input, input, target);
  });
  const scores: Evaluation | null = targets > 0 ? { images: model.images, model: model.mean(), identity: identity.mean() } : null;
  return { scores, outputs };
}

async function fidOfTranslations(values: ParsedArgs['values'], source: ModelSource, outputs: ByteImage[], io: CliIo): Promise<FidReport> {
  const settings = fidSettings(values, 'fid-batch-size');
  const note = (text: string) => io.stderr.write(`${text}\n`);
  const measure = await openInception(settings, io.stderr, note);
  try {
    const fake = await measureImages('translations', outputs.length, (i) => outputs[i], measure);
    const real = await measureRealTarget(values, source, measure);
    return compareSets(fake, real, settings, note);
  } finally {
    measure.net.dispose();
  }
}

export const evalCommand: Command = {
  name: 'eval',
  summary: 'score a generator: PSNR/SSIM to ground truth beside the identity baseline, FID/KID with --fid',
  usage: '(--name NAME | --checkpoint FILE) [--dataroot DIR] [--fid] [--json] [options]',
  description: [
    'Translates testA/ of a dataset that has testA_target/ (the ground-truth translations, as the built-in',
    'synthetic dataset has) and prints the mean PSNR and SSIM to the targets and the synthetic dataset\'s',
    'measures (content kept: IoU of object masks with the input; domain changed: stripe strength), for the model',
    'and for the identity (the untranslated input). A synthetic run of qsattn train is scored on its own test',
    'split without --dataroot. Preprocessing is the test-time one of qsattn test.',
    '--fid also gives FID and KID (as qsattn fid computes them) between the translations of testA and the real',
    'images of testB, as the paper reports them; a dataset without testA_target/ (horse2zebra) then gets only these.',
  ].join('\n'),
  options: {
    ...MODEL_SOURCE_OPTIONS,
    'num-test': { type: 'string', valueName: 'N', description: 'score at most N images (default: all)' },
    json: { type: 'boolean', description: 'print the scores as one JSON line' },
    fid: { type: 'boolean', description: 'also FID and KID between the translations of testA and the real testB' },
    ...Object.fromEntries(Object.entries(FID_OPTIONS).filter(([name]) => name !== 'batch-size')),
    'fid-batch-size': { ...FID_OPTIONS['batch-size'], description: 'images per Inception forward pass for --fid (default 10)' },
  },

  async run({ values, positionals }, io) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}': give the dataset with --dataroot DIR`);
    const source = findModelSource(values);
    const preprocess = testPreprocess(values, source);
    const numTest = integerValue(values, 'num-test', 1);
    const json = values.json === true;
    const choice = await selectBackendFrom(values);
    (json ? io.stderr : io.stdout).write(`${describeBackendChoice(choice)}\n`);
    const withFid = values.fid === true;
    if (withFid) fidSettings(values, 'fid-batch-size'); // a bad FID option is a usage error before anything runs
    const { generator, options } = await loadSourceGenerator(source, values);
    let translated;
    try {
      const images = (await evalImages(values, source, options.inputNc as 1 | 3, !withFid)).slice(0, numTest);
      translated = await translateAndScore(generator, images, preprocess);
    } finally {
      generator.dispose();
    }
    const { scores, outputs } = translated;
    const fid = withFid ? await fidOfTranslations(values, source, outputs, io) : null;
    if (json) {
      io.stdout.write(`${JSON.stringify({ source: source.path, ...(scores ?? { images: outputs.length }), ...(fid === null ? {} : { fid }) })}\n`);
    } else {
      io.stdout.write(`${source.path}\n${scores === null ? '' : formatEvaluation(scores)}${fid === null ? '' : formatFidReport(fid).replace(/^/gm, '  ')}`);
    }
    return EXIT_OK;
  },
};
