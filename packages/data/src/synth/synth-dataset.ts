// The built-in synthetic dataset, generated in memory from a seed (no download).
import { Rng } from '@qsattn/core';
import { DatasetError } from '../errors';
import type { ByteImage } from '../image';
import { randomScene, renderScene, type SynthScene } from './scene';

export interface SynthOptions {
  /** Seed of every random choice (default 0). */
  seed?: number;
  /** Image side in pixels (default 64). */
  size?: number;
  /** Images per training domain (default 400). */
  trainCount?: number;
  /** Images per test domain, and ground-truth translations (default 50). */
  testCount?: number;
}

export interface SynthImage {
  /** File name: six-digit index and `.png`. */
  name: string;
  image: ByteImage;
  /** The scene it was rendered from. */
  scene: SynthScene;
}

export interface SynthDataset {
  options: Required<SynthOptions>;
  trainA: SynthImage[];
  trainB: SynthImage[];
  testA: SynthImage[];
  testB: SynthImage[];
  /** The one correct translation of each testA image (same scene in B's style), with the same name. */
  testATarget: SynthImage[];
}

/** The splits in the order their random streams are numbered. */
const STREAMS = { trainA: 1, trainB: 2, testA: 3, testB: 4 } as const;

/** A seed for one split's stream, so that changing one split's count leaves the others' images unchanged. */
function streamSeed(seed: number, stream: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(stream, 0x85ebca6b)) >>> 0;
}

export function resolveSynthOptions(options: SynthOptions = {}): Required<SynthOptions> {
  const resolved = { seed: options.seed ?? 0, size: options.size ?? 64, trainCount: options.trainCount ?? 400, testCount: options.testCount ?? 50 };
  if (!Number.isInteger(resolved.seed)) throw new DatasetError('bad-option', 'seed', `must be an integer, got ${resolved.seed}`);
  if (!Number.isInteger(resolved.size) || resolved.size < 16) {
    throw new DatasetError('bad-option', 'size', `must be an integer of at least 16, got ${resolved.size}`);
  }
  for (const name of ['trainCount', 'testCount'] as const) {
    if (!Number.isInteger(resolved[name]) || resolved[name] < 1) {
      throw new DatasetError('bad-option', name, `must be a positive integer, got ${resolved[name]}`);
    }
  }
  return resolved;
}

const fileName = (i: number): string => `${String(i).padStart(6, '0')}.png`;

/**
 * A horse→zebra-like unpaired dataset drawn from `seed`: domain A is a brown or tan ellipse or rounded blob on
 * a textured green background; domain B the same kind of scene with the object in black-and-white stripes
 * across its long axis, a dark stripe centred on it. The same options always give the same images.
 */
export function synthDataset(options: SynthOptions = {}): SynthDataset {
  const resolved = resolveSynthOptions(options);
  const { seed, size, trainCount, testCount } = resolved;
  const scenes = (stream: number, count: number): SynthScene[] => {
    const rng = new Rng(streamSeed(seed, stream));
    return Array.from({ length: count }, () => randomScene(rng, size));
  };
  const render = (list: SynthScene[], style: 'A' | 'B'): SynthImage[] =>
    list.map((scene, i) => ({ name: fileName(i), image: renderScene(scene, style), scene }));
  const testScenes = scenes(STREAMS.testA, testCount);
  return {
    options: resolved,
    trainA: render(scenes(STREAMS.trainA, trainCount), 'A'),
    trainB: render(scenes(STREAMS.trainB, trainCount), 'B'),
    testA: render(testScenes, 'A'),
    testB: render(scenes(STREAMS.testB, testCount), 'B'),
    testATarget: render(testScenes, 'B'),
  };
}
