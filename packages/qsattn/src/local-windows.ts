// The k×k neighbourhoods of local query selection, and the two ways of reading them: as the official code
// does (which reinterprets PyTorch's channel-major unfold) and as the paper describes (true window cells).
import * as tf from '@tensorflow/tfjs-core';
import { checkIdsPerImage } from './tokens';

export const LOCAL_LAYOUTS = ['official-code', 'paper-window'] as const;
/**
 * `'official-code'`: the official code's reading. `F.unfold` gives, per position p, a vector `u_p` of length
 * k²·C in channel-major order (`u_p[c·k² + j]` = channel c of window cell j); the official code reshapes it
 * to `[k², C]`, so its k² "neighbours" of p are the consecutive length-C pieces of `u_p`, not the window
 * cells, and its values mix the selected positions (see `localValues`). This is what the published numbers
 * were produced with.
 * `'paper-window'`: the paper's definition, the k² window cells of p as keys and values.
 */
export type LocalLayout = (typeof LOCAL_LAYOUTS)[number];

export interface LocalWindowOptions {
  /** Default `'official-code'`. */
  layout?: LocalLayout;
  /** Odd window side k; zero padding (k−1)/2 keeps one window per position. Default 7, as the official code. */
  windowSize?: number;
}

export function resolveLocalWindow(options: LocalWindowOptions = {}): Required<LocalWindowOptions> {
  const layout = options.layout ?? 'official-code';
  if (!(LOCAL_LAYOUTS as readonly string[]).includes(layout)) {
    throw new Error(`unknown local layout '${layout}': choose one of ${LOCAL_LAYOUTS.join(', ')}`);
  }
  const windowSize = options.windowSize ?? 7;
  if (!Number.isInteger(windowSize) || windowSize < 1 || windowSize % 2 === 0) {
    throw new Error(`local windowSize must be an odd positive integer, got ${windowSize}`);
  }
  return { layout, windowSize };
}

/**
 * The true k×k windows (zero-padded) around the given token positions of each image: `[B, P, k², C]`,
 * cells row-major over the window. Built as one gather from the zero-padded feature map, so that its
 * gradient flows back into `feat`.
 */
export function gatherWindows(feat: tf.Tensor4D, positions: readonly ArrayLike<number>[], windowSize: number): tf.Tensor4D {
  const [batch, height, width, channels] = feat.shape;
  const count = checkIdsPerImage(positions, batch, height * width, 'gatherWindows');
  const radius = (windowSize - 1) / 2;
  const paddedWidth = width + 2 * radius;
  const paddedCount = (height + 2 * radius) * paddedWidth;
  const cells = windowSize * windowSize;
  const index = new Int32Array(batch * count * cells);
  let at = 0;
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < count; i++) {
      const p = positions[b][i];
      const row = Math.floor(p / width);
      const col = p - row * width;
      // Cell (dy, dx) of the window centred on (row, col) sits at (row + dy, col + dx) in the padded map.
      for (let dy = 0; dy < windowSize; dy++) {
        const base = b * paddedCount + (row + dy) * paddedWidth + col;
        for (let dx = 0; dx < windowSize; dx++) index[at++] = base + dx;
      }
    }
  }
  return tf.tidy(() => {
    const padded = tf.pad(feat, [[0, 0], [radius, radius], [radius, radius], [0, 0]]);
    const flat = tf.reshape(padded, [batch * paddedCount, channels]);
    const picked = tf.gather(flat, tf.tensor1d(index, 'int32'));
    return tf.reshape(picked, [batch, count, cells, channels]);
  });
}

/** PyTorch's unfold vectors `u_p` (channel-major, length k²·C) from true windows `[B, P, k², C]` → `[B, P, k²·C]`. */
function unfoldVectors(windows: tf.Tensor4D): tf.Tensor3D {
  const [batch, count, cells, channels] = windows.shape;
  return tf.reshape(tf.transpose(windows, [0, 1, 3, 2]), [batch, count, cells * channels]);
}

/** The k² keys of each position `[B, P, k², C]`: window cells, or the official code's pieces of `u_p`. */
export function localKeys(windows: tf.Tensor4D, layout: LocalLayout): tf.Tensor4D {
  if (layout === 'paper-window') return windows;
  return tf.tidy(() => tf.reshape(unfoldVectors(windows), windows.shape) as tf.Tensor4D);
}

/**
 * The values for the selected positions of each image, `[B·n, k², C]`, given the windows at those
 * positions in selection order. Paper: the window cells. Official code: per image, the matrix
 * `[u_{s_1} … u_{s_n}]` (`[k²·C, n]`) read row-major as `[n, k², C]`, so the values of one query mix the
 * unfold vectors of all selected positions, and depend on the selection order.
 */
export function localValues(windows: tf.Tensor4D, layout: LocalLayout): tf.Tensor3D {
  const [batch, count, cells, channels] = windows.shape;
  if (layout === 'paper-window') return tf.reshape(windows, [batch * count, cells, channels]);
  return tf.tidy(() => {
    const columns = tf.transpose(unfoldVectors(windows), [0, 2, 1]);
    return tf.reshape(columns, [batch * count, cells, channels]);
  });
}
