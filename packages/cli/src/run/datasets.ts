import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Rng } from '@qsattn/core';
import type { ModelOptions } from '@qsattn/cut-model';
import {
  applyTransform,
  decodeImageFile,
  listImageFiles,
  openUnalignedDataset,
  planTransform,
  synthDataset,
  unalignedDatasetFromImages,
  type ByteImage,
  type ChannelCount,
  type PreprocessMode,
  type SynthOptions,
  type UnalignedDataset,
} from '@qsattn/data';
import { InputError } from '../io';
import type { RunOptions } from '../options/run-options';

function checkFolder(path: string, what: string): void {
  if (!existsSync(path)) throw new InputError(`${what} ${path}: no such folder`);
  if (!statSync(path).isDirectory()) throw new InputError(`${what} ${path}: not a folder`);
}

/** The training set of a run: `dataroot`'s trainA/ trainB/ (swapped for BtoA), or the synthetic one in memory. */
export async function openTrainingSet(run: RunOptions, model: ModelOptions, synth: Required<SynthOptions> | null): Promise<UnalignedDataset> {
  const options = {
    phase: 'train' as const,
    preprocess: run.preprocess,
    loadSize: run.loadSize,
    cropSize: run.cropSize,
    flip: run.flip,
    serialBatches: run.serialBatches,
    inputNc: model.inputNc as ChannelCount,
    outputNc: model.outputNc as ChannelCount,
    maxDatasetSize: run.maxDatasetSize ?? undefined,
  };
  const swap = run.direction === 'BtoA';
  if (run.dataroot === null) {
    const data = synthDataset(synth ?? undefined);
    return swap ? unalignedDatasetFromImages(data.trainB, data.trainA, options) : unalignedDatasetFromImages(data.trainA, data.trainB, options);
  }
  checkFolder(run.dataroot, '--dataroot');
  const [a, b] = swap ? ['trainB', 'trainA'] : ['trainA', 'trainB'];
  return openUnalignedDataset({ ...options, dirA: join(run.dataroot, a), dirB: join(run.dataroot, b) });
}

/** One image to translate: its name (the output file's), a loader, and its ground-truth translation if known. */
export interface TestImage {
  name: string;
  /** The image file, for images read from one. */
  file?: string;
  load(): Promise<ByteImage>;
  loadTarget?: () => Promise<ByteImage>;
}

/** The synthetic test split (testA with its targets, or testB for BtoA). */
export function synthTestImages(synth: Required<SynthOptions>, direction: RunOptions['direction']): TestImage[] {
  const data = synthDataset(synth);
  if (direction === 'BtoA') return data.testB.map(({ name, image }) => ({ name, load: async () => image }));
  return data.testA.map(({ name, image }, i) => ({ name, load: async () => image, loadTarget: async () => data.testATarget[i].image }));
}

/**
 * The images of a folder (sorted, sub-folders included) or a single image file. With `targets`, a folder of
 * ground-truth translations with the same file names (`testA_target/`): each image must have one.
 */
export async function folderImages(path: string, channels: ChannelCount, targets?: string): Promise<TestImage[]> {
  if (!existsSync(path)) throw new InputError(`${path}: no such file or folder`);
  const files = statSync(path).isDirectory() ? await listImageFiles(path) : [path];
  return files.map((file) => {
    const image: TestImage = { name: basename(file), file, load: () => decodeImageFile(file, channels) };
    if (targets !== undefined) {
      const target = join(targets, file.slice(path.length).replace(/^[\\/]+/, ''));
      if (!existsSync(target)) throw new InputError(`${target}: missing ground truth for ${file} (every image of ${path} needs one in ${targets})`);
      image.loadTarget = () => decodeImageFile(target, channels);
    }
    return image;
  });
}

/** The test folder of a dataset as the official test script finds it: testA/ (testB/ for BtoA), else valA/. */
export function testFolder(dataroot: string, direction: RunOptions['direction']): string {
  checkFolder(dataroot, '--dataroot');
  const side = direction === 'BtoA' ? 'B' : 'A';
  const test = join(dataroot, `test${side}`);
  if (existsSync(test)) return test;
  const val = join(dataroot, `val${side}`);
  if (existsSync(val)) return val;
  throw new InputError(`--dataroot ${dataroot}: no test${side}/ or val${side}/ folder to translate`);
}

export interface TestPreprocess {
  preprocess: PreprocessMode;
  cropSize: number;
}

/** The official test-time transform: load size = crop size, no flip (`none` keeps the size, to a multiple of 4). */
export function preprocessForTest(image: ByteImage, { preprocess, cropSize }: TestPreprocess, name: string): ByteImage {
  const plan = planTransform({ width: image.width, height: image.height }, { preprocess, loadSize: cropSize, cropSize, flip: false }, new Rng(0), name);
  return applyTransform(image, plan);
}
