// Checks every recording of testdata/fid end to end, more than the unit tests afford: all 150 + 150 images of
// many64 (FID where the statistics are well conditioned, from our own features), every dims of seed1 and
// seed7, and pytorch-fid's square-root route at 768 dims as well as the low-rank one.
//
//   npx tsx packages/fid/scripts/check-recordings.ts [--pth FILE] [--backend wasm|cpu]
//
// --pth FILE: load many64's network from a .pth in the official file's layout instead of generating it, as
// written by `record.py ... --save-pth FILE 3` (the official loader path: core's .pth reader, legacy format).
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, type BackendName } from '@qsattn/core';
import { decodeImageFile } from '@qsattn/data';
import { extractFeatures } from '../src/extract';
import { frechetDistanceOfFeatures } from '../src/frechet';
import { FID_DIMS, FidInceptionV3, type FidDims } from '../src/inception';
import { kernelInceptionDistance } from '../src/kid';
import { readRecording } from '../src/testing/recording';
import { seededInceptionStateDict } from '../src/testing/seeded-weights';

const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);

function featureError(ours: Float32Array, theirs: Float32Array): number {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < theirs.length; i++) {
    worst = Math.max(worst, Math.abs(ours[i] - theirs[i]));
    scale = Math.max(scale, Math.abs(theirs[i]));
  }
  return worst / scale;
}

async function main(): Promise<void> {
  const backend = (arg('--backend') ?? 'wasm') as BackendName;
  await selectBackend(backend);
  console.log(`backend ${backend}`);
  for (const name of ['many64', 'seed1', 'seed7']) {
    const rec = readRecording(name);
    const pth = arg('--pth');
    let net: FidInceptionV3;
    if (name === 'many64' && pth !== undefined) {
      net = await FidInceptionV3.load(pth);
      console.log(`${name}: network from ${pth}`);
    } else {
      const weights = seededInceptionStateDict(rec.weightSeed);
      net = FidInceptionV3.fromStateDict(weights);
      tf.dispose(weights);
    }
    const dims = FID_DIMS.filter((d) => rec.results[d] !== undefined) as FidDims[];
    const start = performance.now();
    const ours = {
      a: await extractFeatures(net, rec.images.a.length, (i) => decodeImageFile(rec.images.a[i]), { dims, batchSize: 10 }),
      b: await extractFeatures(net, rec.images.b.length, (i) => decodeImageFile(rec.images.b[i]), { dims, batchSize: 10 }),
    };
    const seconds = (performance.now() - start) / 1000;
    const count = rec.images.a.length + rec.images.b.length;
    console.log(`${name}: ${count} images in ${seconds.toFixed(1)} s (${(count / seconds).toFixed(2)} images/s, dims ${dims.join('/')})`);
    net.dispose();
    for (const d of dims) {
      const expected = rec.results[d]!;
      const [fa, fb] = [ours.a.get(d)!, ours.b.get(d)!];
      const [na, nb] = [rec.images.a.length, rec.images.b.length];
      const routes = d > 512 && d <= 768 ? (['low-rank', 'sqrtm'] as const) : (['auto'] as const);
      const fids = routes.map((method) => {
        const r = frechetDistanceOfFeatures(fa, na, fb, nb, d, { method });
        return `${r.method} ${(Math.abs(r.fid - expected.fid!) / expected.fid!).toExponential(1)}`;
      });
      const kid = kernelInceptionDistance(fa, na, fb, nb, d, { subsets: rec.kidSubsets, subsetSize: rec.kidSubsetSize, seed: rec.kidSeed });
      const scale = Math.max(Math.abs(expected.kid.mean), expected.kid.std);
      console.log(
        `  dims ${d}: features ${Math.max(featureError(fa, rec.features.get(`a_${d}`)!.values), featureError(fb, rec.features.get(`b_${d}`)!.values)).toExponential(1)}` +
          `  FID ${expected.fid!.toPrecision(6)} rel. diff ${fids.join(', ')}` +
          `  KID ${expected.kid.mean.toPrecision(4)} ± ${expected.kid.std.toPrecision(3)}: diff/scale ${(Math.abs(kid.mean - expected.kid.mean) / scale).toExponential(1)}, std ${(Math.abs(kid.std - expected.kid.std) / scale).toExponential(1)}`,
      );
    }
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
