// pytorch-fid's InceptionV3 (FID blocks) on NHWC tensors: resize to 299×299 (bilinear, align_corners=False),
// scale [0, 1] → [−1, 1], and the four feature taps of pytorch-fid's `BLOCK_INDEX_BY_DIM`.
import * as tf from '@tensorflow/tfjs-core';
import { conv2d, loadStateDict, torchConvToTfjs } from '@qsattn/core';
import { FidError } from './errors';
import { BN_EPS, MIXED_BLOCKS, allConvs, inceptionTensorShapes, type BasicConvSpec, type MixedSpec } from './inception-layout';

/** Feature sizes pytorch-fid offers (`--dims`), each the output of one block. */
export const FID_DIMS = [64, 192, 768, 2048] as const;
export type FidDims = (typeof FID_DIMS)[number];

/** pytorch-fid's `BLOCK_INDEX_BY_DIM`. */
export const BLOCK_INDEX_BY_DIM: Record<FidDims, number> = { 64: 0, 192: 1, 768: 2, 2048: 3 };

/** The official weights: file name, where pytorch-fid downloads it from, and its size. */
export const FID_WEIGHTS_FILE = 'pt_inception-2015-12-05-6726825d.pth';
export const FID_WEIGHTS_URL = `https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/${FID_WEIGHTS_FILE}`;

export const INCEPTION_INPUT_SIZE = 299;

export function isFidDims(n: number): n is FidDims {
  return (FID_DIMS as readonly number[]).includes(n);
}

interface ConvLayer {
  spec: BasicConvSpec;
  filter: tf.Tensor4D;
  /** Batch norm in eval mode as PyTorch's CPU kernel applies it: x·scale + shift. */
  scale: tf.Tensor1D;
  shift: tf.Tensor1D;
}

/**
 * Checks a state dict against the FID Inception layout: every tensor present with its shape, nothing
 * unexpected (`num_batches_tracked` is allowed either way). Throws a FidError naming the file and the first
 * problems.
 */
export function checkInceptionStateDict(weights: tf.NamedTensorMap, source: string): void {
  const expected = inceptionTensorShapes();
  const problems: string[] = [];
  for (const [name, shape] of expected) {
    const t = weights[name];
    if (t === undefined) problems.push(`missing ${name}`);
    else if (t.shape.join(',') !== shape.join(',')) problems.push(`${name} is [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
  }
  for (const name of Object.keys(weights)) {
    if (!expected.has(name) && !name.endsWith('.num_batches_tracked')) problems.push(`unexpected ${name}`);
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 4).join('; ') + (problems.length > 4 ? `; and ${problems.length - 4} more` : '');
    throw new FidError(
      `${source}: not the FID Inception weights (${shown}); use pytorch-fid's ${FID_WEIGHTS_FILE} (${FID_WEIGHTS_URL})`,
    );
  }
}

export interface FeatureOptions {
  /** The taps to return (default [2048]). */
  dims?: readonly FidDims[];
}

/**
 * pytorch-fid's `InceptionV3(output_blocks, resize_input=True, normalize_input=True, use_fid_inception=True)`.
 * `features` takes NHWC images in [0, 1] of any size and returns, per requested size, the block's output
 * averaged over space (pytorch-fid's `adaptive_avg_pool2d` for the taps below 2048) as [N, dims].
 */
export class FidInceptionV3 {
  private readonly layers = new Map<string, ConvLayer>();
  private disposed = false;

  private constructor(weights: tf.NamedTensorMap) {
    tf.tidy(() => {
      for (const spec of allConvs()) {
        const w = weights[`${spec.name}.bn.weight`].dataSync();
        const b = weights[`${spec.name}.bn.bias`].dataSync();
        const mean = weights[`${spec.name}.bn.running_mean`].dataSync();
        const variance = weights[`${spec.name}.bn.running_var`].dataSync();
        const scale = new Float32Array(spec.outChannels);
        const shift = new Float32Array(spec.outChannels);
        for (let c = 0; c < spec.outChannels; c++) {
          // as at::native's batch_norm_cpu_inference: alpha = weight / sqrt(var + eps), beta = bias − mean·alpha (float32)
          const invstd = Math.fround(1 / Math.fround(Math.sqrt(Math.fround(variance[c] + BN_EPS))));
          scale[c] = Math.fround(invstd * w[c]);
          shift[c] = Math.fround(b[c] - Math.fround(mean[c] * scale[c]));
        }
        this.layers.set(spec.name, {
          spec,
          filter: tf.keep(torchConvToTfjs(weights[`${spec.name}.conv.weight`])),
          scale: tf.keep(tf.tensor1d(scale)),
          shift: tf.keep(tf.tensor1d(shift)),
        });
      }
    });
  }

  /** Builds the network from a state dict in PyTorch layout (the tensors are copied; the caller keeps `weights`). */
  static fromStateDict(weights: tf.NamedTensorMap, source = 'the weights'): FidInceptionV3 {
    checkInceptionStateDict(weights, source);
    return new FidInceptionV3(weights);
  }

  /** Loads `pt_inception-2015-12-05-6726825d.pth` (or the same layout as .pth / safetensors) from a path or URL. */
  static async load(source: string | Uint8Array, name = typeof source === 'string' ? source : 'the weights'): Promise<FidInceptionV3> {
    let weights: tf.NamedTensorMap;
    try {
      weights = await loadStateDict(source, { name });
    } catch (error) {
      throw new FidError(`${name}: cannot be read as Inception weights (${(error as Error).message}); expected pytorch-fid's ${FID_WEIGHTS_FILE}`);
    }
    try {
      return FidInceptionV3.fromStateDict(weights, name);
    } finally {
      tf.dispose(weights);
    }
  }

  /** Features of a batch of NHWC images in [0, 1], one [N, dims] tensor per requested size (same order). */
  features(images: tf.Tensor4D, options: FeatureOptions = {}): tf.Tensor2D[] {
    if (this.disposed) throw new FidError('the Inception network has been disposed');
    const dims = options.dims ?? [2048];
    for (const d of dims) if (!isFidDims(d)) throw new FidError(`feature size ${String(d)} is not one of ${FID_DIMS.join(', ')}`);
    if (images.rank !== 4 || images.shape[3] !== 3) throw new FidError(`images must be [N, H, W, 3], got [${images.shape.join(', ')}]`);
    const last = Math.max(...dims.map((d) => BLOCK_INDEX_BY_DIM[d]));
    return tf.tidy(() => {
      const taps: tf.Tensor4D[] = [];
      let x = tf.image.resizeBilinear(images, [INCEPTION_INPUT_SIZE, INCEPTION_INPUT_SIZE], false, true);
      x = tf.sub(tf.mul(x, 2), 1);
      for (let block = 0; block <= last; block++) {
        x = this.block(block, x);
        taps.push(x);
      }
      return dims.map((d) => {
        const out = taps[BLOCK_INDEX_BY_DIM[d]];
        return (out.shape[1] === 1 && out.shape[2] === 1 ? tf.reshape(out, [out.shape[0], d]) : tf.mean(out, [1, 2])) as tf.Tensor2D;
      });
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const layer of this.layers.values()) tf.dispose([layer.filter, layer.scale, layer.shift]);
    this.layers.clear();
  }

  private block(index: number, x: tf.Tensor4D): tf.Tensor4D {
    switch (index) {
      case 0:
        x = this.conv('Conv2d_1a_3x3', x);
        x = this.conv('Conv2d_2a_3x3', x);
        x = this.conv('Conv2d_2b_3x3', x);
        return tf.maxPool(x, 3, 2, 'valid');
      case 1:
        x = this.conv('Conv2d_3b_1x1', x);
        x = this.conv('Conv2d_4a_3x3', x);
        return tf.maxPool(x, 3, 2, 'valid');
      case 2:
        for (const block of MIXED_BLOCKS.slice(0, 8)) x = this.mixed(block, x);
        return x;
      default:
        for (const block of MIXED_BLOCKS.slice(8)) x = this.mixed(block, x);
        return tf.mean(x, [1, 2], true);
    }
  }

  private conv(name: string, x: tf.Tensor4D): tf.Tensor4D {
    const layer = this.layers.get(name)!;
    const y = conv2d(x, layer.filter, null, { stride: layer.spec.stride, padding: layer.spec.padding });
    return tf.relu(tf.add(tf.mul(y, layer.scale), layer.shift)) as tf.Tensor4D;
  }

  private chain(x: tf.Tensor4D, ...names: string[]): tf.Tensor4D {
    for (const name of names) x = this.conv(name, x);
    return x;
  }

  private mixed(block: MixedSpec, x: tf.Tensor4D): tf.Tensor4D {
    const n = (branch: string) => `${block.name}.${branch}`;
    switch (block.kind) {
      case 'A':
        return tf.concat(
          [
            this.conv(n('branch1x1'), x),
            this.chain(x, n('branch5x5_1'), n('branch5x5_2')),
            this.chain(x, n('branch3x3dbl_1'), n('branch3x3dbl_2'), n('branch3x3dbl_3')),
            this.conv(n('branch_pool'), avgPoolExcludingPadding(x)),
          ],
          3,
        );
      case 'B':
        return tf.concat(
          [
            this.conv(n('branch3x3'), x),
            this.chain(x, n('branch3x3dbl_1'), n('branch3x3dbl_2'), n('branch3x3dbl_3')),
            tf.maxPool(x, 3, 2, 'valid'),
          ],
          3,
        );
      case 'C':
        return tf.concat(
          [
            this.conv(n('branch1x1'), x),
            this.chain(x, n('branch7x7_1'), n('branch7x7_2'), n('branch7x7_3')),
            this.chain(x, n('branch7x7dbl_1'), n('branch7x7dbl_2'), n('branch7x7dbl_3'), n('branch7x7dbl_4'), n('branch7x7dbl_5')),
            this.conv(n('branch_pool'), avgPoolExcludingPadding(x)),
          ],
          3,
        );
      case 'D':
        return tf.concat(
          [
            this.chain(x, n('branch3x3_1'), n('branch3x3_2')),
            this.chain(x, n('branch7x7x3_1'), n('branch7x7x3_2'), n('branch7x7x3_3'), n('branch7x7x3_4')),
            tf.maxPool(x, 3, 2, 'valid'),
          ],
          3,
        );
      case 'E_1':
      case 'E_2': {
        const b3 = this.conv(n('branch3x3_1'), x);
        const d3 = this.chain(x, n('branch3x3dbl_1'), n('branch3x3dbl_2'));
        // E_1 averages (TF's pool ignores the padding); E_2 max-pools, as the TF graph pytorch-fid ported does.
        const pooled = block.kind === 'E_1' ? avgPoolExcludingPadding(x) : tf.maxPool(x, 3, 1, 'same');
        return tf.concat(
          [
            this.conv(n('branch1x1'), x),
            this.conv(n('branch3x3_2a'), b3),
            this.conv(n('branch3x3_2b'), b3),
            this.conv(n('branch3x3dbl_3a'), d3),
            this.conv(n('branch3x3dbl_3b'), d3),
            this.conv(n('branch_pool'), pooled),
          ],
          3,
        );
      }
    }
  }
}

/**
 * `F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)`: the 3×3 sum over the zero-padded input
 * divided by the number of real pixels under the window (9 inside, 6 on edges, 4 in corners). Built from a
 * valid-padding pool so that it does not depend on how a backend counts padding.
 */
function avgPoolExcludingPadding(x: tf.Tensor4D): tf.Tensor4D {
  const [, h, w] = x.shape;
  const counts = new Float32Array(h * w);
  for (let i = 0; i < h; i++) {
    const rows = 3 - (i === 0 ? 1 : 0) - (i === h - 1 ? 1 : 0);
    for (let j = 0; j < w; j++) counts[i * w + j] = rows * (3 - (j === 0 ? 1 : 0) - (j === w - 1 ? 1 : 0));
  }
  const sums = tf.mul(tf.avgPool(tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]), 3, 1, 'valid'), 9);
  return tf.div(sums, tf.tensor4d(counts, [1, h, w, 1])) as tf.Tensor4D;
}
