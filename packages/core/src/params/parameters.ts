import * as tf from '@tensorflow/tfjs-core';
import { requireBackend } from '../backend/ensure-backend';
import { initWeight, type InitScheme } from '../init/initializers';
import type { Rng } from '../init/rng';
import {
  tfjsConvToTorch,
  tfjsConvTransposeToTorch,
  tfjsDepthwiseToTorch,
  tfjsLinearToTorch,
  torchConvToTfjs,
  torchConvTransposeToTfjs,
  torchDepthwiseToTfjs,
  torchLinearToTfjs,
} from '../io/layout';

/** How a PyTorch tensor is laid out here. */
export type ParamLayout = 'conv' | 'convTranspose' | 'linear' | 'depthwise' | 'vector';

export interface ParamSpec {
  /** The PyTorch state-dict name, e.g. `model.1.weight`. */
  name: string;
  /** Shape in PyTorch layout. */
  torchShape: number[];
  layout: ParamLayout;
  /** Trainable weights are tf.Variables; fixed buffers (the blur filters) are constants. */
  trainable: boolean;
  /** How the value starts: the init scheme for weights, zeros for biases, or a fixed buffer. */
  initial: 'weight' | 'zeros' | { buffer: () => tf.Tensor };
}

const TO_OURS: Record<ParamLayout, (t: tf.Tensor) => tf.Tensor> = {
  conv: torchConvToTfjs,
  convTranspose: torchConvTransposeToTfjs,
  linear: torchLinearToTfjs,
  depthwise: torchDepthwiseToTfjs,
  vector: (t) => tf.clone(t),
};

const TO_TORCH: Record<ParamLayout, (t: tf.Tensor) => tf.Tensor> = {
  conv: tfjsConvToTorch,
  convTranspose: tfjsConvTransposeToTorch,
  linear: tfjsLinearToTorch,
  depthwise: tfjsDepthwiseToTorch,
  vector: (t) => tf.clone(t),
};

function describeShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * A network's tensors, named as the official PyTorch checkpoint names them and stored in tfjs layout
 * (conv HWIO, linear [in, out]). Loading converts from PyTorch layout after checking every name and shape.
 */
export class TorchParameters {
  private readonly specs = new Map<string, ParamSpec>();
  private readonly values = new Map<string, tf.Tensor>();

  constructor(specs: readonly ParamSpec[], init: InitScheme, rng: Rng) {
    requireBackend('a network (its weights are tensors)');
    for (const spec of specs) {
      if (this.specs.has(spec.name)) throw new Error(`duplicate parameter name '${spec.name}'`);
      this.specs.set(spec.name, spec);
      const value = tf.tidy(() => {
        if (spec.initial === 'zeros') return tf.zeros(spec.torchShape);
        if (spec.initial === 'weight') return TO_OURS[spec.layout](initWeight(spec.torchShape, init, rng));
        return spec.initial.buffer();
      });
      this.values.set(spec.name, spec.trainable ? tf.variable(value, true, undefined) : value);
      if (spec.trainable) value.dispose();
    }
  }

  /** The tensor (tfjs layout) for a PyTorch name. */
  get(name: string): tf.Tensor {
    const value = this.values.get(name);
    if (value == null) throw new Error(`no parameter '${name}'`);
    return value;
  }

  names(): string[] {
    return [...this.specs.keys()];
  }

  /** Trainable variables by PyTorch name, in declaration order. */
  trainable(): Map<string, tf.Variable> {
    return new Map(
      [...this.specs.values()].filter((s) => s.trainable).map((s) => [s.name, this.values.get(s.name) as tf.Variable]),
    );
  }

  /** A tensor in parameter `name`'s PyTorch layout, converted to ours. */
  fromTorchLayout(name: string, tensor: tf.Tensor): tf.Tensor {
    const spec = this.specs.get(name);
    if (spec == null) throw new Error(`no parameter '${name}'`);
    return TO_OURS[spec.layout](tensor);
  }

  /** A tensor shaped like parameter `name` (e.g. its gradient), converted to PyTorch layout. */
  toTorchLayout(name: string, tensor: tf.Tensor): tf.Tensor {
    const spec = this.specs.get(name);
    if (spec == null) throw new Error(`no parameter '${name}'`);
    return TO_TORCH[spec.layout](tensor);
  }

  /** Expected PyTorch shapes by name (buffers included). */
  torchShapes(): Record<string, number[]> {
    return Object.fromEntries([...this.specs.values()].map((s) => [s.name, s.torchShape]));
  }

  /**
   * Loads a PyTorch state dict (`prefix` + name, PyTorch layout). Every missing, unexpected or wrong-shaped
   * tensor is listed in one error that names `source`; nothing is changed unless all of them fit.
   */
  loadTorch(stateDict: tf.NamedTensorMap, source: string, prefix = ''): void {
    const problems: string[] = [];
    for (const spec of this.specs.values()) {
      const t = stateDict[prefix + spec.name];
      if (t == null) problems.push(`missing tensor '${prefix + spec.name}' (expected ${describeShape(spec.torchShape)})`);
      else if (!tf.util.arraysEqual(t.shape, spec.torchShape)) {
        problems.push(`tensor '${prefix + spec.name}' has shape ${describeShape(t.shape)}, expected ${describeShape(spec.torchShape)}`);
      }
    }
    for (const name of Object.keys(stateDict)) {
      if (name.startsWith(prefix) && !this.specs.has(name.slice(prefix.length))) problems.push(`unexpected tensor '${name}'`);
    }
    if (problems.length > 0) {
      throw new Error(`${source}: ${problems.length} tensor(s) do not fit this network: ${problems.join('; ')}`);
    }
    for (const spec of this.specs.values()) {
      const converted = tf.tidy(() => tf.cast(TO_OURS[spec.layout](stateDict[prefix + spec.name]), 'float32'));
      const current = this.values.get(spec.name)!;
      if (spec.trainable) {
        (current as tf.Variable).assign(converted);
        converted.dispose();
      } else {
        current.dispose();
        this.values.set(spec.name, converted);
      }
    }
  }

  /** The tensors in PyTorch names and layout (new tensors; the caller disposes them). */
  toTorch(prefix = ''): tf.NamedTensorMap {
    const out: tf.NamedTensorMap = {};
    for (const spec of this.specs.values()) out[prefix + spec.name] = TO_TORCH[spec.layout](this.values.get(spec.name)!);
    return out;
  }

  dispose(): void {
    for (const value of this.values.values()) value.dispose();
    this.values.clear();
  }
}
