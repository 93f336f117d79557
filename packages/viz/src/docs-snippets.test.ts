// The docs' example code (docs/snippets/) runs as written: this is what the in-browser example executes.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, expect, test } from 'vitest';
import { selectQueries, type QueryMode } from '@qsattn/qsattn';
import { useBackend } from '../../core/src/testing/harness';
import { imageFeatures, qsOnFeatures } from '../../../docs/snippets/qs-on-your-features';
import { filledRaster } from './raster';

beforeAll(() => useBackend('cpu'));

test.each<QueryMode>(['global', 'local', 'local_global'])('docs snippet qs-on-your-features (%s)', async (mode) => {
  const image = tf.tidy(() => tf.randomUniform([32, 48, 3], 0, 1, 'float32', 5) as tf.Tensor3D);
  const feat = imageFeatures(image);
  expect(feat.shape).toEqual([1, 8, 12, 5]);
  const before = tf.memory().numTensors;
  const result = await qsOnFeatures(feat, filledRaster(48, 32, [100, 100, 100]), mode, 10);
  expect(tf.memory().numTensors).toBe(before);
  expect(Array.from(result.ids)).toEqual(Array.from(selectQueries(feat, { mode, numQueries: 10 })[0]));
  expect(result.attendedShape).toEqual([10, 5]);
  expect([result.entropy.width, result.attention.width]).toEqual([256, 256]);
  tf.dispose([image, feat]);
});
