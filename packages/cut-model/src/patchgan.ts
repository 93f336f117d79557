import * as tf from '@tensorflow/tfjs-core';
import { type InitScheme, Rng } from '@qsattn/core';
import type { ActivationContext } from './activation-branches';
import { applyLayer, type LayerSpec, SequentialNetwork } from './layer-spec';
import { DEFAULT_INIT } from './resnet-generator';

export interface PatchGanOptions {
  inputNc?: number;
  /** Filters of the first conv (official `--ndf`, default 64). */
  ndf?: number;
  /** Strided stages: 3 for `basic` (default), any n for `n_layers`. */
  layers?: number;
  /** Blur-pool downsampling; `false` = the official `--no_antialias` (stride-2 convs). Default true. */
  antialias?: boolean;
  init?: InitScheme;
}

/** The official `NLayerDiscriminator` layer list with instance norm (convs 4×4, pad 1, all with bias). */
export function patchGanLayers(options: PatchGanOptions = {}): LayerSpec[] {
  const { inputNc = 3, ndf = 64, layers: nLayers = 3, antialias = true } = options;
  if (!Number.isInteger(nLayers) || nLayers < 1) throw new RangeError(`discriminator layers must be a positive integer, got ${nLayers}`);
  const conv = (inC: number, outC: number, stride: number): LayerSpec => ({
    kind: 'conv',
    inC,
    outC,
    kernel: 4,
    stride,
    padding: 1,
    bias: true,
  });
  const lrelu: LayerSpec = { kind: 'leakyRelu', slope: 0.2 };
  const stage = (inC: number, outC: number, norm: boolean): LayerSpec[] => {
    const body = [conv(inC, outC, antialias ? 1 : 2), ...(norm ? [{ kind: 'instanceNorm' } as LayerSpec] : []), lrelu];
    return antialias ? [...body, { kind: 'downsample', channels: outC }] : body;
  };
  const list: LayerSpec[] = [...stage(inputNc, ndf, false)];
  let mult = 1;
  for (let n = 1; n < nLayers; n++) {
    const prev = mult;
    mult = Math.min(2 ** n, 8);
    list.push(...stage(ndf * prev, ndf * mult, true));
  }
  const prev = mult;
  mult = Math.min(2 ** nLayers, 8);
  list.push(conv(ndf * prev, ndf * mult, 1), { kind: 'instanceNorm' }, lrelu, conv(ndf * mult, 1, 1));
  return list;
}

/** The PatchGAN discriminator: NHWC image in, a map of real/fake logits out. */
export class PatchGan extends SequentialNetwork {
  constructor(options: PatchGanOptions = {}, rng: Rng = new Rng(0)) {
    super(patchGanLayers(options), options.init ?? DEFAULT_INIT, rng);
  }

  apply(x: tf.Tensor4D, activation?: ActivationContext): tf.Tensor4D {
    return this.layers.reduce((h, spec, i) => applyLayer(spec, h, this.params, `model.${i}.`, undefined, activation), x);
  }
}
