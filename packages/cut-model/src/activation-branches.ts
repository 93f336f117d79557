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
  /** |∂loss/∂output| at the unit in the step's backward pass (what its branch decides to pass or not). */
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

/** What one rectifier kept of the step, to read afterwards. */
interface Logged {
  site: string;
  offset: number;
  slope: number;
  input: tf.Tensor;
  upstream?: tf.Tensor;
}

/**
 * Rectifiers that log the units near their kink and take the other branch at chosen ones. Without choices the
 * values and gradients are bit-identical to `tf.relu` / `tf.leakyRelu`. Nothing is read back during the step (so it
 * runs on backends without synchronous reads): the inputs and the gradients reaching the outputs are kept, and
 * `collect()` reads them after the step.
 */
export class ActivationBranches {
  private readonly flipped = new Map<string, Set<number>>();
  private readonly seen: Logged[] = [];
  private found: NearKink[] = [];

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

  /** The near-kink units the last `collect()` found, in the order the step met them. */
  nearKinks(): NearKink[] {
    return this.found;
  }

  /**
   * `max(x, slope·x)` at `site`. `part` places a recomputation of part of a batch within the site's tensor (its
   * units were logged by the full pass, so it logs nothing).
   */
  activate(site: string, x: tf.Tensor, slope: number, part?: number): tf.Tensor {
    const offset = (part ?? 0) * x.size;
    const flips = [...(this.flipped.get(site) ?? [])].filter((i) => i >= offset && i < offset + x.size).map((i) => i - offset);
    // A site met again (the head's ReLUs when the NCE loss is recomputed for the record) was logged the first time.
    const logged: Logged | undefined =
      part === undefined && !this.seen.some((s) => s.site === site) ? { site, offset, slope, input: tf.keep(x.clone()) } : undefined;
    if (logged) this.seen.push(logged);
    const rectify = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const input = args[0] as tf.Tensor;
      const save = args[1] as tf.GradSaveFunc;
      // The derivative, 1 or slope per unit, on the device; chosen units take the other branch's.
      let positive = tf.greater(input, 0);
      if (flips.length > 0) {
        // Built on the CPU and uploaded: webgpu's scatter of booleans does not compile (tfjs 4.22 on Dawn).
        const chosen = new Uint8Array(input.size);
        for (const i of flips) chosen[i] = 1;
        positive = tf.logicalXor(positive, tf.tensor(chosen, input.shape, 'bool'));
      }
      const derivative = tf.where(positive, tf.onesLike(input), tf.fill(input.shape, slope));
      save([derivative]);
      // The value is always tf.relu's / tf.leakyRelu's: at a unit within rounding of its kink both branches give
      // the same value to rounding, and changing it even by that much moves the units near their kink downstream.
      // Only the derivative takes the other branch.
      return {
        value: slope === 0 ? tf.relu(input) : tf.leakyRelu(input, slope),
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
          const g = Array.isArray(dy) ? dy[0] : dy;
          if (logged && logged.upstream == null) logged.upstream = tf.keep(g.clone());
          return tf.mul(g, saved[0]);
        },
      };
    });
    return rectify(x);
  }

  /** Reads what the step logged: the units within `threshold` of their kink, with the gradient each received. */
  async collect(): Promise<NearKink[]> {
    const found: NearKink[] = [];
    for (const { site, offset, slope, input, upstream } of this.seen) {
      const values = (await input.data()) as Float32Array;
      const grads = upstream && ((await upstream.data()) as Float32Array);
      let scale = 0;
      for (let i = 0; i < values.length; i++) scale = Math.max(scale, Math.abs(values[i]));
      for (let i = 0; i < values.length; i++) {
        if (Math.abs(values[i]) <= this.threshold * scale) {
          found.push({ site, index: offset + i, shape: input.shape, value: values[i], scale, upstream: grads ? Math.abs(grads[i]) : 0, slope });
        }
      }
      tf.dispose([input, ...(upstream ? [upstream] : [])]);
    }
    this.seen.length = 0;
    this.found = found;
    return found;
  }

  /** Frees what the step logged without reading it. */
  dispose(): void {
    tf.dispose(this.seen.flatMap((s) => [s.input, ...(s.upstream ? [s.upstream] : [])]));
    this.seen.length = 0;
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
