// What a generator's QS layers select for one image: the features of the model's QS taps, and their selection
// maps drawn over the image (entropy with the selected queries, one query's attention row).
import * as tf from '@tensorflow/tfjs-core';
import type { ModelOptions, ResnetGenerator } from '@qsattn/cut-model';
import { rgbToGray, toFloatImage, type ByteImage } from '@qsattn/data';
import { defaultQsLayers, type QueryMode } from '@qsattn/qsattn';
import { attentionPanel, entropyPanel, selectionMaps, type SelectionMap } from '@qsattn/viz';
import { rasterPng } from '@qsattn/viz/node';

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
