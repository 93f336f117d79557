// Example (a): translate an image with the small generator trained on the built-in dataset, and show what its
// QS layers select.
import * as tf from '@tensorflow/tfjs-core';
import { loadStateDict, readSafetensors, Rng } from '@qsattn/core';
import { generatorBlocks, resolveModelOptions, ResnetGenerator, type ModelOptions } from '@qsattn/cut-model';
import { synthDataset, toByteImage, toFloatImage, type ByteImage } from '@qsattn/data/synth';
import { defaultQsLayers } from '@qsattn/qsattn';
import { attentionPanel, entropyPanel, selectionMaps, type Raster } from '@qsattn/viz';

export interface LoadedModel {
  generator: ResnetGenerator;
  options: ModelOptions;
  step: number;
}

/** A generator saved by scripts/docs-model.mjs: a safetensors state dict with the run's options in its metadata. */
export async function loadGenerator(url: string): Promise<LoadedModel> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot load ${url}: HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const { metadata } = readSafetensors(bytes, url);
  const options = resolveModelOptions(JSON.parse(metadata.options ?? '{}') as Partial<ModelOptions>);
  const state = await loadStateDict(bytes, { name: url, format: 'safetensors' });
  const generator = new ResnetGenerator(
    { inputNc: options.inputNc, outputNc: options.outputNc, ngf: options.ngf, blocks: generatorBlocks(options.netG), antialias: options.antialias, antialiasUp: options.antialiasUp, init: options.init },
    new Rng(0),
  );
  try {
    generator.params.loadTorch(state, url);
  } finally {
    tf.dispose(Object.values(state));
  }
  return { generator, options, step: Number(metadata.step ?? 0) };
}

/** Test images of the built-in dataset (the split the model never saw), at the model's size. */
export function sampleImages(size: number, count = 8): ByteImage[] {
  return synthDataset({ seed: 0, size, trainCount: 1, testCount: count }).testA.map((t) => t.image);
}

export interface Translation {
  output: ByteImage;
  maps: { layer: number; entropy: Raster; attention: Raster; selected: number }[];
  seconds: number;
}

export async function translateWithMaps({ generator, options }: LoadedModel, image: ByteImage): Promise<Translation> {
  const start = performance.now();
  const float = toFloatImage(image);
  const x = tf.tensor4d(float.data, [1, image.height, image.width, image.channels]);
  const taps = defaultQsLayers(options.nceLayers.length).map((i) => options.nceLayers[i]);
  try {
    const y = tf.tidy(() => generator.translate(x));
    const data = (await y.data()) as Float32Array;
    y.dispose();
    const output = toByteImage({ width: image.width, height: image.height, channels: image.channels, data });
    const features = tf.tidy(() => generator.run(x, { taps, encodeOnly: true }).features);
    const maps = [];
    try {
      for (const [i, feat] of features.entries()) {
        const [map] = await selectionMaps(feat, { mode: options.qsMode ?? 'global', numQueries: options.numPatches });
        maps.push({ layer: taps[i], entropy: entropyPanel(image, map), attention: attentionPanel(image, map), selected: map.selected.length });
      }
    } finally {
      tf.dispose(features);
    }
    return { output, maps, seconds: (performance.now() - start) / 1000 };
  } finally {
    x.dispose();
  }
}
