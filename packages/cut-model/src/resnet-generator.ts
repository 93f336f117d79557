import * as tf from '@tensorflow/tfjs-core';
import { type InitScheme, Rng } from '@qsattn/core';
import type { ActivationContext } from './activation-branches';
import { applyLayer, type BuggyNorms, type LayerSpec, officialTapLayers, SequentialNetwork } from './layer-spec';

export interface ResnetGeneratorOptions {
  inputNc?: number;
  outputNc?: number;
  /** Filters of the first conv (official `--ngf`, default 64). */
  ngf?: number;
  /** Residual blocks: 9 for `resnet_9blocks` (default), 6 or 4 for the smaller ones. */
  blocks?: number;
  /** Anti-aliased downsampling (conv + blur pool). `false` = the official `--no_antialias`. Default true. */
  antialias?: boolean;
  /** Anti-aliased upsampling (blur upsample + conv). `false` = the official `--no_antialias_up`. Default true. */
  antialiasUp?: boolean;
  /** Default: xavier-normal, gain 0.02, as the official `--init_type xavier --init_gain 0.02`. */
  init?: InitScheme;
}

export const DEFAULT_INIT: InitScheme = { type: 'xavier', gain: 0.02 };

/** The official `ResnetGenerator` layer list; indices are the official ones, which name NCE layers and weights. */
export function resnetGeneratorLayers(options: ResnetGeneratorOptions = {}): LayerSpec[] {
  const { inputNc = 3, outputNc = 3, ngf = 64, blocks = 9, antialias = true, antialiasUp = true } = options;
  if (!Number.isInteger(blocks) || blocks < 1) throw new RangeError(`generator blocks must be a positive integer, got ${blocks}`);
  if (!Number.isInteger(ngf) || ngf < 1) throw new RangeError(`ngf must be a positive integer, got ${ngf}`);
  const conv = (inC: number, outC: number, kernel: number, stride: number, padding: number): LayerSpec => ({
    kind: 'conv',
    inC,
    outC,
    kernel,
    stride,
    padding,
    bias: true,
  });
  const layers: LayerSpec[] = [
    { kind: 'reflectionPad', padding: 3 },
    conv(inputNc, ngf, 7, 1, 0),
    { kind: 'instanceNorm' },
    { kind: 'relu' },
  ];
  for (let i = 0; i < 2; i++) {
    const c = ngf * 2 ** i;
    if (antialias) {
      layers.push(conv(c, 2 * c, 3, 1, 1), { kind: 'instanceNorm' }, { kind: 'relu' }, { kind: 'downsample', channels: 2 * c });
    } else {
      layers.push(conv(c, 2 * c, 3, 2, 1), { kind: 'instanceNorm' }, { kind: 'relu' });
    }
  }
  for (let i = 0; i < blocks; i++) layers.push({ kind: 'resnetBlock', channels: 4 * ngf });
  for (let i = 0; i < 2; i++) {
    const c = ngf * 2 ** (2 - i);
    if (antialiasUp) {
      layers.push({ kind: 'upsample', channels: c }, conv(c, c / 2, 3, 1, 1), { kind: 'instanceNorm' }, { kind: 'relu' });
    } else {
      layers.push(
        { kind: 'convTranspose', inC: c, outC: c / 2, kernel: 3, stride: 2, padding: 1, outputPadding: 1, bias: true },
        { kind: 'instanceNorm' },
        { kind: 'relu' },
      );
    }
  }
  layers.push({ kind: 'reflectionPad', padding: 3 }, conv(ngf, outputNc, 7, 1, 0), { kind: 'tanh' });
  return layers;
}

export interface GeneratorRun {
  /** The translated image (absent when `encodeOnly`). */
  output?: tf.Tensor4D;
  /** The outputs of the requested layers, in the order requested. */
  features: tf.Tensor4D[];
}

/** The CUT / QS-Attn ResNet generator, NHWC in and out, weights named as the official checkpoints name them. */
export class ResnetGenerator extends SequentialNetwork {
  constructor(options: ResnetGeneratorOptions = {}, rng: Rng = new Rng(0)) {
    super(resnetGeneratorLayers(options), options.init ?? DEFAULT_INIT, rng);
  }

  /**
   * Runs the layers, keeping the outputs of `taps` (official layer indices, e.g. the NCE layers 0,4,8,12,16).
   * With `encodeOnly` it stops after the last tap, as the official `encode_only`.
   */
  run(
    x: tf.Tensor4D,
    {
      taps = [],
      encodeOnly = false,
      buggyNorms,
      activation,
    }: { taps?: readonly number[]; encodeOnly?: boolean; buggyNorms?: BuggyNorms; activation?: ActivationContext } = {},
  ): GeneratorRun {
    for (const t of taps) {
      if (!Number.isInteger(t) || t < 0 || t >= this.layers.length) {
        throw new RangeError(`NCE layer ${t} is not a generator layer: choose indices 0 to ${this.layers.length - 1}`);
      }
    }
    // A tapped norm holds its ReLU's output, as the official in-place ReLU leaves it (see officialTapLayers).
    const held = officialTapLayers(this.layers, taps);
    const last = encodeOnly ? Math.max(...held) : this.layers.length - 1;
    const kept = new Map<number, tf.Tensor4D>();
    let h = x;
    for (let i = 0; i <= last; i++) {
      h = applyLayer(this.layers[i], h, this.params, `model.${i}.`, buggyNorms, activation);
      if (held.includes(i)) kept.set(i, h);
    }
    return { output: encodeOnly ? undefined : h, features: held.map((t) => kept.get(t)!) };
  }

  /** Runs layers `from` … `to` (inclusive) on `x`, the output of layer `from − 1`. */
  runRange(x: tf.Tensor4D, from: number, to: number, buggyNorms?: BuggyNorms, activation?: ActivationContext): tf.Tensor4D {
    let h = x;
    for (let i = from; i <= to; i++) h = applyLayer(this.layers[i], h, this.params, `model.${i}.`, buggyNorms, activation);
    return h;
  }

  /** The translation alone. */
  translate(x: tf.Tensor4D): tf.Tensor4D {
    return this.run(x).output!;
  }
}
