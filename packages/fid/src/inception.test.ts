import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@qsattn/core';
import { decodeImageFile } from '@qsattn/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractFeatures, type FeatureSet } from './extract';
import { frechetDistanceOfFeatures } from './frechet';
import { FID_DIMS, FidInceptionV3, checkInceptionStateDict, type FidDims } from './inception';
import { inceptionTensorShapes } from './inception-layout';
import { kernelInceptionDistance } from './kid';
import { readRecording, type Recording } from './testing/recording';
import { seededInceptionStateDict } from './testing/seeded-weights';

// Our network against pytorch-fid's, both with the seeded weights of testing/seeded-weights.ts, on the
// recorded image folders (testdata/fid/record.py). seed7 was recorded after development and not tuned on.

/** The largest difference relative to the largest recorded value of the tap. */
function relativeError(ours: Float32Array, theirs: Float32Array): number {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < theirs.length; i++) {
    worst = Math.max(worst, Math.abs(ours[i] - theirs[i]));
    scale = Math.max(scale, Math.abs(theirs[i]));
  }
  return worst / scale;
}

async function features(net: FidInceptionV3, files: string[], dims: readonly FidDims[]): Promise<FeatureSet> {
  return extractFeatures(net, files.length, (i) => decodeImageFile(files[i]), { dims, batchSize: 3 });
}

beforeAll(async () => {
  await selectBackend('wasm');
});

describe.each(['seed1', 'seed7'])('pytorch-fid recording %s', (name) => {
  let rec: Recording;
  let net: FidInceptionV3;
  let ours: { a: FeatureSet; b: FeatureSet };
  beforeAll(async () => {
    rec = readRecording(name);
    const weights = seededInceptionStateDict(rec.weightSeed);
    net = FidInceptionV3.fromStateDict(weights, name);
    tf.dispose(weights);
    ours = { a: await features(net, rec.images.a, FID_DIMS), b: await features(net, rec.images.b, FID_DIMS) };
  }, 300_000);
  afterAll(() => net.dispose());

  for (const dims of FID_DIMS) {
    it(`features at ${dims} match within 1e-4 of the tap's scale; FID and KID follow`, () => {
      for (const side of ['a', 'b'] as const) {
        expect(relativeError(ours[side].get(dims)!, rec.features.get(`${side}_${dims}`)!.values)).toBeLessThan(1e-4);
      }
      const n = { a: rec.images.a.length, b: rec.images.b.length };
      const { fid, method } = frechetDistanceOfFeatures(ours.a.get(dims)!, n.a, ours.b.get(dims)!, n.b, dims);
      expect(method).toBe(dims <= 512 ? 'sqrtm' : 'low-rank');
      const expected = rec.results[dims]!;
      // A handful of images (N < dims): singular statistics, yet the FID agrees to about 1e-5 here.
      expect(Math.abs(fid - expected.fid!) / expected.fid!).toBeLessThan(1e-3);
      const kid = kernelInceptionDistance(ours.a.get(dims)!, n.a, ours.b.get(dims)!, n.b, dims, {
        subsets: rec.kidSubsets,
        subsetSize: rec.kidSubsetSize,
        seed: rec.kidSeed,
      });
      const scale = Math.max(Math.abs(expected.kid.mean), expected.kid.std);
      expect(Math.abs(kid.mean - expected.kid.mean)).toBeLessThan(1e-3 * scale);
      expect(Math.abs(kid.std - expected.kid.std)).toBeLessThan(1e-3 * scale);
    });
  }
});

describe('FidInceptionV3', () => {
  it('names what is wrong with a state dict that is not the FID Inception', () => {
    const weights = seededInceptionStateDict(1);
    const fcWeight = weights['fc.weight'];
    weights['fc.weight'] = tf.zeros([1000, 2048]);
    weights['AuxLogits.fc.weight'] = tf.zeros([1000, 768]);
    const bn = weights['Mixed_7c.branch_pool.bn.running_var'];
    delete weights['Mixed_7c.branch_pool.bn.running_var'];
    expect(() => checkInceptionStateDict(weights, 'inception_v3_google.pth')).toThrow(
      /^inception_v3_google\.pth: not the FID Inception weights \(missing Mixed_7c\.branch_pool\.bn\.running_var; fc\.weight is \[1000, 2048\], expected \[1008, 2048\]; unexpected AuxLogits\.fc\.weight\); use pytorch-fid's pt_inception-2015-12-05-6726825d\.pth/,
    );
    tf.dispose([weights, fcWeight, bn]);
  });

  it('lists the official layout: 94 BasicConv2d and the 1008-class head', () => {
    const shapes = inceptionTensorShapes();
    expect(shapes.size).toBe(94 * 5 + 2);
    expect(shapes.get('Conv2d_1a_3x3.conv.weight')).toEqual([32, 3, 3, 3]);
    expect(shapes.get('Mixed_6b.branch7x7_2.conv.weight')).toEqual([128, 128, 1, 7]);
    expect(shapes.get('Mixed_7c.branch_pool.conv.weight')).toEqual([192, 2048, 1, 1]);
  });

  it('rejects unknown feature sizes and leaks no tensors', async () => {
    const weights = seededInceptionStateDict(2);
    const net = FidInceptionV3.fromStateDict(weights);
    tf.dispose(weights);
    const before = tf.memory().numTensors;
    const x = tf.zeros([1, 40, 40, 3]) as tf.Tensor4D;
    expect(() => net.features(x, { dims: [100 as FidDims] })).toThrow(/feature size 100 is not one of 64, 192, 768, 2048/);
    const [f] = net.features(x, { dims: [64] });
    expect(f.shape).toEqual([1, 64]);
    tf.dispose([x, f]);
    expect(tf.memory().numTensors).toBe(before);
    net.dispose();
  });
});
