import * as tf from '@tensorflow/tfjs-core';
import { ADAM_UPDATE, type AdamUpdateAttrs } from '../kernels/shared/adam-update';

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  /** PyTorch's default 1e-8 (tfjs's Adam defaults to 1e-7). */
  eps?: number;
}

/** Saved optimizer state: the step count and the two moments of every parameter, by name. */
export interface AdamState {
  step: number;
  firstMoment: tf.NamedTensorMap;
  secondMoment: tf.NamedTensorMap;
}

/** Parameters up to this many elements are updated by the fused kernel where there is one. */
export const FUSED_ADAM_MAX_SIZE = 16384;

function zeroVariable(like: tf.Tensor): tf.Variable {
  const zeros = tf.zerosLike(like);
  const variable = tf.variable(zeros, false); // shares the data; the initial tensor is still ours to dispose
  zeros.dispose();
  return variable;
}

/**
 * `torch.optim.Adam` (no weight decay, no amsgrad), step for step: the moments are updated in place, the bias
 * corrections are computed in float64 as PyTorch computes them in Python, and the update is
 * `p −= (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + eps)`. Parameters are named so that the state can be saved.
 */
export class TorchAdam {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  private stepCount = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(private readonly params: ReadonlyMap<string, tf.Variable>, options: AdamOptions) {
    this.lr = options.lr;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    for (const [name, p] of params) {
      this.m.set(name, zeroVariable(p));
      this.v.set(name, zeroVariable(p));
    }
  }

  get step(): number {
    return this.stepCount;
  }

  /** One update from gradients by parameter name; parameters without a gradient are left alone. */
  apply(grads: tf.NamedTensorMap): void {
    this.stepCount++;
    const bc1 = 1 - this.beta1 ** this.stepCount;
    const bc2Sqrt = Math.sqrt(1 - this.beta2 ** this.stepCount);
    const stepSize = this.lr / bc1;
    // On wasm and cpu, small parameters take one kernel (kernels/shared/adam-update.ts), bit-identical to the chain
    // below: its JS loop beats thirteen kernel calls up to about FUSED_ADAM_MAX_SIZE elements, and loses to wasm's
    // SIMD kernels beyond.
    const fused = tf.getKernel(ADAM_UPDATE, tf.getBackend()) != null;
    const attrs: AdamUpdateAttrs = { beta1: this.beta1, beta2: this.beta2, eps: this.eps, stepSize, bc2Sqrt };
    for (const [name, g] of Object.entries(grads)) {
      const p = this.params.get(name);
      if (p == null) throw new Error(`TorchAdam: gradient for unknown parameter '${name}'`);
      const m = this.m.get(name)!;
      const v = this.v.get(name)!;
      if (fused && g.dtype === 'float32' && g.size <= FUSED_ADAM_MAX_SIZE) {
        const updated = tf.engine().runKernel(ADAM_UPDATE, { p, m, v, g }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
        p.assign(updated[0]);
        m.assign(updated[1]);
        v.assign(updated[2]);
        tf.dispose(updated);
        continue;
      }
      tf.tidy(() => {
        m.assign(tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1)));
        v.assign(tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2)));
        const denom = tf.add(tf.div(tf.sqrt(v), bc2Sqrt), this.eps);
        p.assign(tf.sub(p, tf.mul(tf.div(m, denom), stepSize)));
      });
    }
  }

  /** A copy of the state (new tensors; the caller disposes them). */
  getState(): AdamState {
    const copy = (map: Map<string, tf.Variable>): tf.NamedTensorMap =>
      Object.fromEntries([...map].map(([k, t]) => [k, tf.clone(t)]));
    return { step: this.stepCount, firstMoment: copy(this.m), secondMoment: copy(this.v) };
  }

  setState(state: AdamState): void {
    for (const [label, map, saved] of [
      ['first', this.m, state.firstMoment],
      ['second', this.v, state.secondMoment],
    ] as const) {
      for (const [name, variable] of map) {
        const t = saved[name];
        if (t == null || !tf.util.arraysEqual(t.shape, variable.shape)) {
          throw new Error(`optimizer state: ${label} moment of '${name}' is ${t == null ? 'missing' : `[${t.shape.join(', ')}]`}, expected [${variable.shape.join(', ')}]`);
        }
      }
    }
    for (const [name, variable] of this.m) variable.assign(state.firstMoment[name]);
    for (const [name, variable] of this.v) variable.assign(state.secondMoment[name]);
    this.stepCount = state.step;
  }

  dispose(): void {
    tf.dispose([...this.m.values(), ...this.v.values()]);
    this.m.clear();
    this.v.clear();
  }
}
