// What a generator's QS layers select for one image: the features of the model's QS taps, and their selection
// maps drawn over the image (entropy with the selected queries, one query's attention row).
import * as tf from '@tensorflow/tfjs-core';
import type { ModelOptions, ResnetGenerator } from '@qsattn/cut-model';
import { rgbToGray, toFloatImage, type ByteImage } from '@qsattn/data';
import { defaultQsLayers, type QueryMode } from '@qsattn/qsattn';
import { attentionPanel, entropyPanel, selectionMaps, type SelectionMap } from '@qsattn/viz';
import { rasterPng } from '@qsattn/viz/node';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { selectBackend } from '@qsattn/core';
import type { ParsedArgs } from '../commands/command';
import { UsageError, type CliIo } from '../io';
import { stringValue } from '../options/cli-values';
import type { ExtraColumns } from '../scale/results-folder';
import { resultFile } from '../scale/results-folder';
import { writeFileAtomic } from '../write-file';
import { preprocessForTest, type TestImage, type TestPreprocess } from './datasets';
import { loadSourceGenerator, type ModelSource } from './model-source';

export interface LayerMaps {
  /** The generator layer (official index) the features are read at. */
  tap: number;
  map: SelectionMap;
  entropyPng: Buffer;
  attentionPng: Buffer;
  /** `global`, or the local window (`7×7 window`). */
  extent: string;
}

/** The generator layers QS-Attn selects at: the NCE layers from the fourth on (the official `feat_id ≥ 3`). */
export function qsTaps(options: Pick<ModelOptions, 'nceLayers'>): number[] {
  return defaultQsLayers(options.nceLayers.length).map((i) => options.nceLayers[i]);
}

/** The mode the maps show: the model's; plain CUT selects nothing, so its maps show what `global` would. */
export function explainMode(options: Pick<ModelOptions, 'qsMode'>): QueryMode {
  return options.qsMode ?? 'global';
}

/** The image as the generator's input `[1, H, W, C]`, converted to its channel count. */
export function inputTensor(image: ByteImage, channels: number): tf.Tensor4D {
  const fitted = channels === 1 && image.channels === 3 ? rgbToGray(image) : image;
  const float = toFloatImage(fitted);
  return tf.tensor4d(float.data, [1, float.height, float.width, float.channels]);
}

/** The selection maps of `image` at each QS tap of `generator`, as PNG panels. Run it between training steps. */
export async function explainImage(generator: ResnetGenerator, image: ByteImage, options: ModelOptions): Promise<LayerMaps[]> {
  const taps = qsTaps(options);
  if (taps.length === 0) return [];
  const features = tf.tidy(() => {
    const x = inputTensor(image, options.inputNc);
    return generator.run(x, { taps, encodeOnly: true }).features;
  });
  try {
    const out: LayerMaps[] = [];
    for (const [i, feat] of features.entries()) {
      const [map] = await selectionMaps(feat, { mode: explainMode(options), numQueries: options.numPatches });
      const extent = map.extent.kind === 'window' ? `${map.extent.windowSize}×${map.extent.windowSize} window` : 'over the whole map';
      out.push({ tap: taps[i], map, extent, entropyPng: await rasterPng(entropyPanel(image, map)), attentionPng: await rasterPng(attentionPanel(image, map)) });
    }
    return out;
  } finally {
    tf.dispose(features);
  }
}

/**
 * `qsattn test --explain`: the selection maps of each translated image, written to `images/layerN_entropy/` and
 * `images/layerN_attention/` beside real_A and fake_B. Runs on this thread, one image after another.
 */
export async function explainResults(
  dir: string,
  images: readonly TestImage[],
  preprocess: TestPreprocess,
  source: ModelSource,
  values: ParsedArgs['values'],
  io: CliIo,
): Promise<ExtraColumns> {
  await selectBackend(stringValue(values, 'backend') ?? 'auto');
  const { generator, options } = await loadSourceGenerator(source, values);
  try {
    const taps = qsTaps(options);
    if (taps.length === 0) throw new UsageError(`--explain needs QS layers: the model has ${options.nceLayers.length} NCE layers, QS-Attn selects at the fourth on`);
    const columns = taps.flatMap((t) => [`layer${t}_entropy`, `layer${t}_attention`]);
    for (const column of columns) mkdirSync(join(dir, 'images', column), { recursive: true });
    for (const image of images) {
      const input = preprocessForTest(await image.load(), preprocess, image.name);
      for (const layer of await explainImage(generator, input, options)) {
        await writeFileAtomic(join(dir, 'images', `layer${layer.tap}_entropy`, resultFile(image.name)), layer.entropyPng);
        await writeFileAtomic(join(dir, 'images', `layer${layer.tap}_attention`, resultFile(image.name)), layer.attentionPng);
      }
    }
    io.stdout.write(`wrote the selection maps of ${images.length} images (${columns.length} columns)\n`);
    const mode = explainMode(options);
    return {
      columns,
      paths: (name) => columns.map((column) => join('images', column, resultFile(name))),
      note: `Selection maps (${mode}${options.qsMode === null ? ': this CUT model does not select; the maps show what global QS-Attn would' : ''}): per QS layer, the attention entropy (yellow = low) with the ${options.numPatches} selected queries outlined in red, and the attention of the lowest-entropy query (cyan).`,
    };
  } finally {
    generator.dispose();
  }
}
