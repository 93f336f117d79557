// Rectifiers at their kink. ReLU and LeakyReLU are not differentiable at 0, and a pre-activation within float32
// rounding of 0 lands on either side depending on the order of the sums that made it: two correct float32
// implementations (or float32 and float64) then take different branches, and their gradients differ by everything
// that flows through that one unit. Replaying a recorded step therefore treats the branch at such units as a
// discrete choice, like the patch ids: this module records where they are and can take the other branch there.
import * as tf from '@tensorflow/tfjs-core';

/** A unit whose pre-activation is within `threshold` (relative to its tensor's largest magnitude) of the kink. */
export interface NearKink {
  /** `<pass>:<layer prefix>`, e.g. `G(real):model.19.conv_block.3.` */
  site: string;
  /** Element index in the site's NHWC (or `[rows, features]`) tensor, in row-major order. */
  index: number;
  shape: number[];
  value: number;
  /** The tensor's largest magnitude. */
  scale: number;
  /** Largest |∂loss/∂output| seen at the unit in the backward pass (what its branch decides to pass or not). */
  upstream: number;
  slope: number;
}

/** Where an activation runs: the pass (a label of the forward computation) and, for a recomputation of part of a
 * batch, which part (equal parts along the batch axis). */
export interface ActivationContext {
  branches: ActivationBranches;
  pass: string;
  part?: number;
}

const key = (site: string, index: number): string => `${site}#${index}`;

/**
 * Rectifiers that log the units near their kink and take the other branch at chosen ones. Without choices the
 * values and gradients are bit-identical to `tf.relu` / `tf.leakyRelu`.
 */
export class ActivationBranches {
  private readonly flipped = new Map<string, Set<number>>();
  private readonly found = new Map<string, NearKink>();

  constructor(
    flips: Iterable<{ site: string; index: number }> = [],
    /** Relative distance from the kink that counts as "within rounding" (of the tensor's largest magnitude). */
    readonly threshold = 2 ** -17,
  ) {
    for (const { site, index } of flips) {
      let set = this.flipped.get(site);
      if (set == null) this.flipped.set(site, (set = new Set()));
      set.add(index);
    }
  }

  /** The near-kink units seen so far, in the order found. */
  nearKinks(): NearKink[] {
    return [...this.found.values()];
  }

  /** `max(x, slope·x)` at `site`; `part` places a recomputed part of a batch within the site's tensor. */
  activate(site: string, x: tf.Tensor, slope: number, part = 0): tf.Tensor {
    const values = x.dataSync() as Float32Array;
    const offset = part * values.length;
    let scale = 0;
    for (let i = 0; i < values.length; i++) scale = Math.max(scale, Math.abs(values[i]));
    const near: number[] = [];
    for (let i = 0; i < values.length; i++) {
      if (Math.abs(values[i]) <= this.threshold * scale) {
        near.push(i);
        const k = key(site, offset + i);
        if (!this.found.has(k)) {
          this.found.set(k, { site, index: offset + i, shape: x.shape, value: values[i], scale, upstream: 0, slope });
        }
      }
    }
    const flips = this.flipped.get(site);
    const mask = new Float32Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const flip = flips?.has(offset + i) ?? false;
      mask[i] = values[i] > 0 !== flip ? 1 : slope;
    }
    const found = this.found;
    const rectify = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const input = args[0] as tf.Tensor;
      const save = args[1] as tf.GradSaveFunc;
      const m = tf.tensor(mask, input.shape);
      save([m]);
      // The value is always tf.relu's / tf.leakyRelu's: at a unit within rounding of its kink both branches give
      // the same value to rounding, and changing it even by that much moves the units near their kink downstream.
      // Only the derivative takes the other branch.
      const value = slope === 0 ? tf.relu(input) : tf.leakyRelu(input, slope);
      return {
        value,
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
          const g = Array.isArray(dy) ? dy[0] : dy;
          if (near.length > 0) {
            const upstream = g.dataSync();
            for (const i of near) {
              const unit = found.get(key(site, offset + i))!;
              unit.upstream = Math.max(unit.upstream, Math.abs(upstream[i]));
            }
          }
          return tf.mul(g, saved[0]);
        },
      };
    });
    return rectify(x);
  }
}

/** The rectifier of a layer: through `context` when given (a replay), else the plain op. */
export function rectify(x: tf.Tensor, slope: number, site: string, context?: ActivationContext): tf.Tensor {
  if (context == null) return slope === 0 ? tf.relu(x) : tf.leakyRelu(x, slope);
  return context.branches.activate(`${context.pass}:${site}`, x, slope, context.part);
}

/** `site` / `index` of a near-kink unit in words: pass, layer, image, position and channel. */
export function describeUnit(unit: Pick<NearKink, 'site' | 'index' | 'shape'>): string {
  const coords: number[] = [];
  let rest = unit.index;
  for (let d = unit.shape.length - 1; d >= 0; d--) {
    coords.unshift(rest % unit.shape[d]);
    rest = Math.floor(rest / unit.shape[d]);
  }
  // Parts of a batch recomputed separately place their units after the part's own shape: fold the batch back.
  coords[0] += rest * unit.shape[0];
  const where = unit.shape.length === 4 ? `image ${coords[0]}, row ${coords[1]}, column ${coords[2]}, channel ${coords[3]}` : `row ${coords[0]}, feature ${coords[1]}`;
  return `${unit.site.replace(/\.$/, '')} (${where})`;
}
