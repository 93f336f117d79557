// The projection head of CUT / QS-Attn (`PatchSampleF`'s MLPs): per NCE layer, Linear(C→nc) · ReLU ·
// Linear(nc→nc), then L2 normalisation. Weights are held in our layout ([in, out]) and converted from and
// to PyTorch's names and layout (`mlp_<l>.0.weight` [out, in], …) at the edges.
import * as tf from '@tensorflow/tfjs-core';
import { initWeight, l2Normalize, linear, requireBackend, type InitScheme, type Rng } from '@qsattn/core';

export interface ProjectionHeadOptions {
  /** Channels of each NCE layer's features, in layer order (the official MLPs are built from these). */
  channels: readonly number[];
  /** Width of the MLPs and of the projected vectors (`netF_nc`). Default 256. */
  nc?: number;
  /** Weight init; biases start at 0. Default xavier-normal with gain 0.02, as the official defaults. */
  init?: InitScheme;
  /** Seeded source of the initial weights. */
  rng: Rng;
}

interface LayerMlp {
  hiddenWeight: tf.Variable; // [C, nc]
  hiddenBias: tf.Variable; // [nc]
  outputWeight: tf.Variable; // [nc, nc]
  outputBias: tf.Variable; // [nc]
}

const TORCH_NAME = /^mlp_(\d+)\.(0|2)\.(weight|bias)$/;

function torchNames(layer: number): [string, string, string, string] {
  return [`mlp_${layer}.0.weight`, `mlp_${layer}.0.bias`, `mlp_${layer}.2.weight`, `mlp_${layer}.2.bias`];
}

export class ProjectionHead {
  private constructor(private readonly mlps: LayerMlp[]) {}

  /** A freshly initialised head, the MLPs initialised in the official order (layer by layer, first then second Linear). */
  static create(options: ProjectionHeadOptions): ProjectionHead {
    const nc = options.nc ?? 256;
    const init = options.init ?? { type: 'xavier', gain: 0.02 };
    if (!Number.isInteger(nc) || nc <= 0) throw new Error(`nc must be a positive integer, got ${nc}`);
    if (options.channels.length === 0) throw new Error('a projection head needs at least one layer');
    requireBackend('ProjectionHead.create');
    const mlps = options.channels.map((channels, layer) => {
      if (!Number.isInteger(channels) || channels <= 0) {
        throw new Error(`channels[${layer}] must be a positive integer, got ${channels}`);
      }
      return tf.tidy(() => ({
        hiddenWeight: tf.variable(tf.transpose(initWeight([nc, channels], init, options.rng))),
        hiddenBias: tf.variable(tf.zeros([nc])),
        outputWeight: tf.variable(tf.transpose(initWeight([nc, nc], init, options.rng))),
        outputBias: tf.variable(tf.zeros([nc])),
      }));
    });
    return new ProjectionHead(mlps);
  }

  /**
   * A head from PyTorch weights named `mlp_<l>.{0,2}.{weight,bias}` (torch layout, Linear weights
   * `[out, in]`), layers 0…L−1 all present. The tensors are copied; the caller keeps ownership.
   */
  static fromTorch(weights: tf.NamedTensorMap): ProjectionHead {
    let layers = 0;
    for (const name of Object.keys(weights)) {
      const match = TORCH_NAME.exec(name);
      if (!match) throw new Error(`unexpected projection head weight '${name}': expected mlp_<layer>.{0,2}.{weight,bias}`);
      layers = Math.max(layers, Number(match[1]) + 1);
    }
    if (layers === 0) throw new Error('no projection head weights (mlp_<layer>.…) given');
    const mlps: LayerMlp[] = [];
    try {
      for (let layer = 0; layer < layers; layer++) ProjectionHead.addTorchLayer(mlps, layer, weights);
    } catch (e) {
      // The layers made before the bad one would otherwise outlive the error.
      tf.dispose(mlps.flatMap((mlp) => Object.values(mlp)));
      throw e;
    }
    return new ProjectionHead(mlps);
  }

  /** Checks one layer's PyTorch weights and appends its MLP. */
  private static addTorchLayer(mlps: LayerMlp[], layer: number, weights: tf.NamedTensorMap): void {
    const names = torchNames(layer);
    const missing = names.filter((name) => weights[name] == null);
    if (missing.length > 0) throw new Error(`projection head weights lack ${missing.join(', ')}`);
    const [w0, b0, w2, b2] = names.map((name) => weights[name]);
    if (w0.rank !== 2) throw new Error(`${names[0]} must be a Linear weight [out, in], got shape [${w0.shape.join(', ')}]`);
    const [nc, channels] = w0.shape;
    const expectShape = (t: tf.Tensor, shape: number[], name: string): void => {
      if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
        throw new Error(`${name} has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
      }
    };
    expectShape(w0, [mlps[0]?.outputBias.shape[0] ?? nc, channels], names[0]);
    expectShape(b0, [nc], names[1]);
    expectShape(w2, [nc, nc], names[2]);
    expectShape(b2, [nc], names[3]);
    mlps.push(
      tf.tidy(() => ({
        hiddenWeight: tf.variable(tf.transpose(w0)),
        hiddenBias: tf.variable(tf.clone(b0)),
        outputWeight: tf.variable(tf.transpose(w2)),
        outputBias: tf.variable(tf.clone(b2)),
      })),
    );
  }

  get numLayers(): number {
    return this.mlps.length;
  }

  /** Input channels of each layer's MLP. */
  get channels(): number[] {
    return this.mlps.map((mlp) => mlp.hiddenWeight.shape[0]);
  }

  get nc(): number {
    return this.mlps[0].outputBias.shape[0];
  }

  /** The trainable variables, keyed by their PyTorch names (values in our layout). */
  namedVariables(): Record<string, tf.Variable> {
    const named: Record<string, tf.Variable> = {};
    this.mlps.forEach((mlp, layer) => {
      const [w0, b0, w2, b2] = torchNames(layer);
      Object.assign(named, { [w0]: mlp.hiddenWeight, [b0]: mlp.hiddenBias, [w2]: mlp.outputWeight, [b2]: mlp.outputBias });
    });
    return named;
  }

  get variables(): tf.Variable[] {
    return Object.values(this.namedVariables());
  }

  /**
   * Projects sampled features `[N, C_l]` of layer `layer` to unit vectors `[N, nc]` (norm + 1e-7, as the official
   * `Normalize`). `rectify` replaces the ReLU between the two linear layers (to instrument it; default `tf.relu`).
   */
  project(layer: number, x: tf.Tensor2D, rectify: (hidden: tf.Tensor2D) => tf.Tensor2D = tf.relu): tf.Tensor2D {
    const mlp = this.mlps[layer];
    if (mlp == null) throw new Error(`layer ${layer} is outside the head's ${this.mlps.length} layers`);
    return tf.tidy(() => {
      const hidden = rectify(linear(x, mlp.hiddenWeight as tf.Tensor2D, mlp.hiddenBias as tf.Tensor1D) as tf.Tensor2D);
      return l2Normalize(linear(hidden, mlp.outputWeight as tf.Tensor2D, mlp.outputBias as tf.Tensor1D), -1) as tf.Tensor2D;
    });
  }

  /**
   * A tensor shaped like parameter `name` (its value, gradient or Adam moment) converted between our layout and
   * PyTorch's: Linear weights are stored transposed (`[in, out]` here, `[out, in]` there), biases as they are.
   * The conversion is its own inverse. Returns a new tensor.
   */
  static convertLayout(name: string, tensor: tf.Tensor): tf.Tensor {
    return name.endsWith('.weight') ? tf.transpose(tensor) : tf.clone(tensor);
  }

  /** The weights under their PyTorch names and in PyTorch layout (new tensors, owned by the caller). */
  toTorch(): tf.NamedTensorMap {
    return tf.tidy(() => {
      const out: tf.NamedTensorMap = {};
      for (const [name, variable] of Object.entries(this.namedVariables())) {
        out[name] = ProjectionHead.convertLayout(name, variable);
      }
      return out;
    });
  }

  dispose(): void {
    tf.dispose(this.variables);
  }
}
