import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic, writePng } from '../decode';
import { DatasetError } from '../errors';
import { synthDataset, type SynthDataset, type SynthImage, type SynthOptions } from './synth-dataset';

/** The folders `writeSynthDataset` writes, in order. */
export const SYNTH_FOLDERS = ['trainA', 'trainB', 'testA', 'testB', 'testA_target'] as const;
export type SynthFolder = (typeof SYNTH_FOLDERS)[number];

export interface WriteSynthProgress {
  written: number;
  total: number;
  folder: SynthFolder;
}

export interface WriteSynthOptions extends SynthOptions {
  /** Called after each file is written. */
  onProgress?: (progress: WriteSynthProgress) => void;
}

export interface WriteSynthResult {
  root: string;
  options: SynthDataset['options'];
  /** Images written per folder. */
  counts: Record<SynthFolder, number>;
}

/**
 * Generates the synthetic dataset and writes it in the official layout: `dir/trainA`, `trainB`, `testA`,
 * `testB` and `testA_target` (the ground-truth translation of each testA image, same file name), as PNGs,
 * plus `synth.json` with the options that made it. Each file is written whole or not at all.
 */
export async function writeSynthDataset(dir: string, options: WriteSynthOptions = {}): Promise<WriteSynthResult> {
  const data = synthDataset(options);
  const folders: Record<SynthFolder, SynthImage[]> = {
    trainA: data.trainA,
    trainB: data.trainB,
    testA: data.testA,
    testB: data.testB,
    testA_target: data.testATarget,
  };
  const total = SYNTH_FOLDERS.reduce((n, f) => n + folders[f].length, 0);
  let written = 0;
  for (const folder of SYNTH_FOLDERS) {
    const path = join(dir, folder);
    try {
      await mkdir(path, { recursive: true });
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new DatasetError('write-failed', path, `could not create the folder (${reason}); pick a writable location`);
    }
    for (const { name, image } of folders[folder]) {
      await writePng(join(path, name), image);
      written++;
      options.onProgress?.({ written, total, folder });
    }
  }
  await writeFileAtomic(join(dir, 'synth.json'), `${JSON.stringify({ dataset: 'synthetic', ...data.options }, null, 2)}\n`);
  const counts = Object.fromEntries(SYNTH_FOLDERS.map((f) => [f, folders[f].length])) as Record<SynthFolder, number>;
  return { root: dir, options: data.options, counts };
}
