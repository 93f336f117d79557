import * as tf from '@tensorflow/tfjs-core';

/** NHWC features `[B, H, W, C]` as tokens `[B, H·W, C]`, row-major over H then W (the official order). */
export function toTokens(feat: tf.Tensor4D): tf.Tensor3D {
  if (feat.rank !== 4) throw new Error(`expected NHWC features [B, H, W, C], got shape [${feat.shape.join(', ')}]`);
  const [batch, height, width, channels] = feat.shape;
  return tf.reshape(feat, [batch, height * width, channels]);
}

/** Checks one id list per image, all of one length, every id in [0, count); returns that length. */
export function checkIdsPerImage(ids: readonly ArrayLike<number>[], batch: number, count: number, what: string): number {
  if (ids.length !== batch) throw new Error(`${what}: expected ids for ${batch} image(s), got ${ids.length}`);
  const n = ids[0].length;
  for (const list of ids) {
    if (list.length !== n) throw new Error(`${what}: every image needs the same number of ids (${n}), got ${list.length}`);
    for (let i = 0; i < list.length; i++) {
      const id = list[i];
      if (!Number.isInteger(id) || id < 0 || id >= count) throw new Error(`${what}: id ${id} is outside [0, ${count})`);
    }
  }
  return n;
}

/**
 * Rows `rows[b, ids[b][i], :]` → `[B, n, C]`, each image with its own ids. One gather on the flattened
 * batch, because gather's gradient (a segment sum) is then a single kernel on every backend.
 */
export function gatherRowsPerImage(rows: tf.Tensor3D, ids: readonly ArrayLike<number>[]): tf.Tensor3D {
  const [batch, count, channels] = rows.shape;
  const n = checkIdsPerImage(ids, batch, count, 'gatherRowsPerImage');
  const flatIds = new Int32Array(batch * n);
  for (let b = 0; b < batch; b++) for (let i = 0; i < n; i++) flatIds[b * n + i] = b * count + ids[b][i];
  return tf.tidy(() => {
    const picked = tf.gather(tf.reshape(rows, [batch * count, channels]), tf.tensor1d(flatIds, 'int32'));
    return tf.reshape(picked, [batch, n, channels]);
  });
}
