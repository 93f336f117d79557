// Test-only: memory over a long training run and many translations: tensors, the wasm heap, the process RSS.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { CutModel } from '@qsattn/cut-model';
import { synthDataset, UnalignedLoader, unalignedDatasetFromImages } from '@qsattn/data';
import { RunFolder } from '../run/run-folder';
import { trainLoop } from '../run/train-loop';
import { translateImage } from '../run/translate-images';

export interface MemorySample {
  /** Steps or translations done. */
  at: number;
  tensors: number;
  /** The wasm backend's heap (it only grows), 0 on other backends. */
  heapBytes: number;
  rssBytes: number;
}

export interface LeakFigures {
  samples: MemorySample[];
  /** The sample taken once warm-up was over, and the last one. */
  warm: MemorySample;
  end: MemorySample;
  seconds: number;
}

function sample(at: number): MemorySample {
  (globalThis as { gc?: () => void }).gc?.();
  const backend = tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } };
  return { at, tensors: tf.memory().numTensors, heapBytes: backend.wasm?.HEAPU8.buffer.byteLength ?? 0, rssBytes: process.memoryUsage().rss };
}

function figures(samples: MemorySample[], warmup: number, began: number): LeakFigures {
  const warm = samples.find((s) => s.at >= warmup) ?? samples[0];
  return { samples, warm, end: samples[samples.length - 1], seconds: (performance.now() - began) / 1000 };
}

const TINY = { ngf: 4, ndf: 4, netFNc: 16, numPatches: 16, qsMode: 'global' } as const;

/**
 * `steps` training steps of a small model on 32-pixel synthetic images, through the CLI's training loop (a
 * checkpoint every 25 steps, so saving is measured too), sampling memory every `every` steps.
 */
export async function measureTraining(steps: number, every: number, warmup: number): Promise<LeakFigures> {
  const began = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'qsattn-leaks-'));
  const data = synthDataset({ size: 32, trainCount: 8, testCount: 1, seed: 0 });
  const dataset = unalignedDatasetFromImages(data.trainA, data.trainB, { preprocess: 'none', cropSize: 32, loadSize: 32 });
  const model = new CutModel({ ...TINY, nEpochs: Math.ceil(steps / 8) + 1, nEpochsDecay: 0 }, { seed: 0 });
  const samples: MemorySample[] = [sample(0)];
  try {
    const loader = new UnalignedLoader(dataset, { seed: 0 });
    await trainLoop(model, loader, new RunFolder(dir), {
      saveEpochFreq: 1_000_000,
      saveLatestFreq: 25,
      batchSize: 1,
      maxSteps: steps,
      stopRequested: () => false,
      onEvent: (e) => {
        if (e.type === 'step' && e.step % every === 0) samples.push(sample(e.step));
      },
    });
  } finally {
    model.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  return figures(samples, warmup, began);
}

/** `count` translations of a 32-pixel image by a small generator, sampling memory every `every`. */
export async function measureTranslations(count: number, every: number, warmup: number): Promise<LeakFigures> {
  const began = performance.now();
  const model = new CutModel(TINY, { seed: 0 });
  const image = synthDataset({ size: 32, trainCount: 1, testCount: 1, seed: 0 }).testA[0].image;
  const samples: MemorySample[] = [sample(0)];
  try {
    for (let i = 1; i <= count; i++) {
      await translateImage(model.netG, image);
      if (i % every === 0) samples.push(sample(i));
    }
  } finally {
    model.dispose();
  }
  return figures(samples, warmup, began);
}
