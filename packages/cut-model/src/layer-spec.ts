import * as tf from '@tensorflow/tfjs-core';
import {
  blurFilter,
  conv2d,
  convTranspose2d,
  downsample,
  instanceNorm,
  reflectionPad,
  upsample,
  TorchParameters,
  type InitScheme,
  type ParamSpec,
  type Rng,
} from '@qsattn/core';
import { type ActivationContext, rectify } from './activation-branches';

/** One entry of an official `nn.Sequential`; its index in the list is its checkpoint name `model.<i>`. */
export type LayerSpec =
  | { kind: 'reflectionPad'; padding: number }
  | { kind: 'conv'; inC: number; outC: number; kernel: number; stride: number; padding: number; bias: boolean }
  | {
      kind: 'convTranspose';
      inC: number;
      outC: number;
      kernel: number;
      stride: number;
      padding: number;
      outputPadding: number;
      bias: boolean;
    }
  | { kind: 'instanceNorm' }
  | { kind: 'relu' }
  | { kind: 'leakyRelu'; slope: number }
  | { kind: 'tanh' }
  | { kind: 'downsample'; channels: number }
  | { kind: 'upsample'; channels: number }
  | { kind: 'resnetBlock'; channels: number };

function convParams(prefix: string, inC: number, outC: number, k: number, bias: boolean, transpose: boolean): ParamSpec[] {
  const specs: ParamSpec[] = [
    {
      name: `${prefix}weight`,
      torchShape: transpose ? [inC, outC, k, k] : [outC, inC, k, k],
      layout: transpose ? 'convTranspose' : 'conv',
      trainable: true,
      initial: 'weight',
    },
  ];
  if (bias) specs.push({ name: `${prefix}bias`, torchShape: [outC], layout: 'vector', trainable: true, initial: 'zeros' });
  return specs;
}

/** The residual block's inner list: pad, conv, IN, ReLU, pad, conv, IN (convs at 1 and 5, as checkpoints name them). */
function resnetBlockLayers(channels: number): LayerSpec[] {
  const conv: LayerSpec = { kind: 'conv', inC: channels, outC: channels, kernel: 3, stride: 1, padding: 0, bias: true };
  return [
    { kind: 'reflectionPad', padding: 1 },
    conv,
    { kind: 'instanceNorm' },
    { kind: 'relu' },
    { kind: 'reflectionPad', padding: 1 },
    conv,
    { kind: 'instanceNorm' },
  ];
}

/** The tensors a layer owns, named `<prefix>weight` etc. in PyTorch layout. */
export function layerParams(spec: LayerSpec, prefix: string): ParamSpec[] {
  switch (spec.kind) {
    case 'conv':
      return convParams(prefix, spec.inC, spec.outC, spec.kernel, spec.bias, false);
    case 'convTranspose':
      return convParams(prefix, spec.inC, spec.outC, spec.kernel, spec.bias, true);
    case 'downsample':
    case 'upsample': {
      const size = spec.kind === 'downsample' ? 3 : 4;
      const scale = spec.kind === 'downsample' ? 1 : 4;
      return [
        {
          name: `${prefix}filt`,
          torchShape: [spec.channels, 1, size, size],
          layout: 'depthwise',
          trainable: false,
          initial: { buffer: () => blurFilter(size, spec.channels, scale) },
        },
      ];
    }
    case 'resnetBlock':
      return resnetBlockLayers(spec.channels).flatMap((inner, i) => layerParams(inner, `${prefix}conv_block.${i}.`));
    default:
      return [];
  }
}

/** Names (`<prefix>` of an instance norm, e.g. `model.12.conv_block.6.`) whose backward emulates PyTorch's CPU bug. */
export type BuggyNorms = ReadonlySet<string>;

/** Runs one layer; `params` holds its tensors under `prefix`. */
export function applyLayer(
  spec: LayerSpec,
  x: tf.Tensor4D,
  params: TorchParameters,
  prefix: string,
  buggyNorms: BuggyNorms = new Set(),
  activation?: ActivationContext,
): tf.Tensor4D {
  switch (spec.kind) {
    case 'reflectionPad':
      return reflectionPad(x, spec.padding);
    case 'conv':
      return conv2d(
        x,
        params.get(`${prefix}weight`) as tf.Tensor4D,
        spec.bias ? (params.get(`${prefix}bias`) as tf.Tensor1D) : null,
        { stride: spec.stride, padding: spec.padding },
      );
    case 'convTranspose':
      return convTranspose2d(
        x,
        params.get(`${prefix}weight`) as tf.Tensor4D,
        spec.bias ? (params.get(`${prefix}bias`) as tf.Tensor1D) : null,
        { stride: spec.stride, padding: spec.padding, outputPadding: spec.outputPadding },
      );
    case 'instanceNorm':
      return instanceNorm(x, { torchCpuChannelsLastGradBug: buggyNorms.has(prefix) });
    case 'relu':
      return rectify(x, 0, prefix, activation) as tf.Tensor4D;
    case 'leakyRelu':
      return rectify(x, spec.slope, prefix, activation) as tf.Tensor4D;
    case 'tanh':
      return tf.tanh(x);
    case 'downsample':
      return downsample(x, { filter: params.get(`${prefix}filt`) as tf.Tensor4D });
    case 'upsample':
      return upsample(x, { filter: params.get(`${prefix}filt`) as tf.Tensor4D });
    case 'resnetBlock': {
      let h = x;
      resnetBlockLayers(spec.channels).forEach((inner, i) => {
        h = applyLayer(inner, h, params, `${prefix}conv_block.${i}.`, buggyNorms, activation);
      });
      return tf.add(x, h);
    }
  }
}

/**
 * The instance norms that receive a channels-last gradient in the official code's batch-1 encoder passes when
 * the listed taps' outputs get one (the NCE taps read through a permuted token view): the last norm of a tapped
 * residual block and of every block below it down the skip connections, and a top-level norm only when it is
 * itself the deepest tap (`encode_only` returns it before the in-place ReLU runs; any other tapped norm is
 * reached through that ReLU, whose backward hands it a contiguous gradient). Probed with backward hooks on the
 * official code.
 */
export function normsReachedByChannelsLastGrad(
  layers: readonly LayerSpec[],
  taps: Iterable<number>,
  deepestTap: number,
): Set<string> {
  const norms = new Set<string>();
  for (const tap of taps) {
    if (layers[tap].kind === 'instanceNorm' && tap === deepestTap) norms.add(`model.${tap}.`);
    for (let i = tap; i >= 0 && layers[i].kind === 'resnetBlock'; i--) norms.add(`model.${i}.conv_block.6.`);
  }
  return norms;
}

/**
 * The official taps hold what the tapped tensor holds once the encoder pass is over: the official norms are
 * followed by an in-place ReLU, so a tapped norm's output has been rectified — unless it is the deepest tap,
 * where `encode_only` returns before that ReLU runs. Returns, for each tap, the layer whose output it holds.
 */
export function officialTapLayers(layers: readonly LayerSpec[], taps: readonly number[]): number[] {
  const deepest = Math.max(...taps);
  return taps.map((t) => (layers[t].kind === 'instanceNorm' && layers[t + 1]?.kind === 'relu' && t !== deepest ? t + 1 : t));
}

/**
 * Biases whose gradient is zero in exact arithmetic: those of convs followed directly by instance norm, which
 * subtracts any per-channel constant. Their computed gradients are rounding noise in any implementation.
 */
export function biasesCancelledByNorm(layers: readonly LayerSpec[]): string[] {
  const names: string[] = [];
  const scan = (list: readonly LayerSpec[], prefix: (i: number) => string): void => {
    list.forEach((spec, i) => {
      const next = list[i + 1];
      if ((spec.kind === 'conv' || spec.kind === 'convTranspose') && spec.bias && next?.kind === 'instanceNorm') {
        names.push(`${prefix(i)}bias`);
      }
      if (spec.kind === 'resnetBlock') scan(resnetBlockLayers(spec.channels), (j) => `${prefix(i)}conv_block.${j}.`);
    });
  };
  scan(layers, (i) => `model.${i}.`);
  return names;
}

/** A network that is one official flat list: its layers and their tensors, named `model.<index>.…`. */
export class SequentialNetwork {
  readonly params: TorchParameters;

  constructor(
    readonly layers: LayerSpec[],
    init: InitScheme,
    rng: Rng,
  ) {
    this.params = new TorchParameters(sequentialParams(layers), init, rng);
  }

  dispose(): void {
    this.params.dispose();
  }
}

/** Every tensor of a flat official list, named `model.<index>.…`. */
export function sequentialParams(layers: readonly LayerSpec[]): ParamSpec[] {
  return layers.flatMap((spec, i) => layerParams(spec, `model.${i}.`));
}
