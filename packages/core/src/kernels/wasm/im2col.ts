import * as tf from '@tensorflow/tfjs-core';
import { RunCopier } from './heap-transpose';
import type { WasmKernelChain } from './kernel-chain';

/**
 * The inputs a convolution reads, one row per filter tap and channel (i, j, c) and one column per output
 * pixel (n, ho, wo): `xt` is the input already transposed to [C,N,H,W]; the result is [kh·kw·C, N·Ho·Wo], with
 * zeros where a tap falls in the padding. Columns in dy's own order, so dy is the product's other operand as
 * it is. Written by a loop over the heap because wasm's Slice kernel copies its whole input on every call,
 * which made kh·kw slices 3–100× slower than the matrix product they feed.
 */
export function im2colChannelsFirst(
  chain: WasmKernelChain,
  xt: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo
): tf.TensorInfo {
  const [channels, batch, inHeight, inWidth] = xt.shape;
  const { filterHeight, filterWidth, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { dilationHeight, dilationWidth } = info;
  const { top, left } = info.padInfo;
  const plane = inHeight * inWidth;
  const rowBlock = batch * outHeight * outWidth;
  // Allocate before taking views: growing the heap detaches every typed array over it.
  const out = chain.allocate([filterHeight * filterWidth * channels, rowBlock], 'float32');
  const x = chain.backend.typedArrayFromHeap(xt);
  const cols = chain.backend.typedArrayFromHeap(out);
  const runs = new RunCopier(x, cols);
  for (let i = 0; i < filterHeight; i++) {
    for (let j = 0; j < filterWidth; j++) {
      // Output columns whose tap lands inside the input; the rest read padding.
      const shift = j * dilationWidth - left;
      const woBegin = Math.min(outWidth, Math.max(0, Math.ceil(-shift / strideWidth)));
      const woEnd = Math.max(woBegin, Math.min(outWidth, Math.floor((inWidth - 1 - shift) / strideWidth) + 1));
      for (let c = 0; c < channels; c++) {
        let o = ((i * filterWidth + j) * channels + c) * rowBlock;
        for (let n = 0; n < batch; n++) {
          const image = (c * batch + n) * plane;
          for (let ho = 0; ho < outHeight; ho++, o += outWidth) {
            const h = ho * strideHeight + i * dilationHeight - top;
            if (h < 0 || h >= inHeight) {
              cols.fill(0, o, o + outWidth);
              continue;
            }
            // A call per row even when empty cost more than the copies (0.8 of 1.2 ms for 2×18×18×64, 3×3).
            if (woBegin > 0) cols.fill(0, o, o + woBegin);
            if (woEnd < outWidth) cols.fill(0, o + woEnd, o + outWidth);
            const from = image + h * inWidth + woBegin * strideWidth + shift;
            if (strideWidth === 1) {
              // Consecutive output columns read consecutive input columns: one block copy.
              runs.copy(from, o + woBegin, woEnd - woBegin);
            } else {
              for (let wo = woBegin, src = from; wo < woEnd; wo++, src += strideWidth) cols[o + wo] = x[src];
            }
          }
        }
      }
    }
  }
  return out;
}
