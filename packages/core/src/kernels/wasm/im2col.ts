import * as tf from '@tensorflow/tfjs-core';
import type { WasmKernelChain } from './kernel-chain';

/**
 * The inputs a convolution reads, one row per filter tap and channel (i, j, c) and one column per output
 * pixel (ho, wo, n): `xt` is the input already transposed to [C,H,W,N]; the result is [kh·kw·C, Ho·Wo·N], with zeros
 * where a tap falls in the padding. Written by a loop over the heap because wasm's Slice kernel copies its
 * whole input on every call and then moves one element at a time when N is innermost, which made kh·kw
 * slices of this layout 3–100× slower than the matrix product they feed.
 */
export function im2colChannelsFirst(
  chain: WasmKernelChain,
  xt: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo
): tf.TensorInfo {
  const [channels, inHeight, inWidth, batch] = xt.shape;
  const { filterHeight, filterWidth, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { dilationHeight, dilationWidth } = info;
  const { top, left } = info.padInfo;
  const outRow = outWidth * batch;
  const rowBlock = outHeight * outRow;
  // Allocate before taking views: growing the heap detaches every typed array over it.
  const out = chain.allocate([filterHeight * filterWidth * channels, rowBlock], 'float32');
  const x = chain.backend.typedArrayFromHeap(xt);
  const cols = chain.backend.typedArrayFromHeap(out);
  for (let i = 0; i < filterHeight; i++) {
    for (let j = 0; j < filterWidth; j++) {
      // Output columns whose tap lands inside the input; the rest read padding.
      const shift = j * dilationWidth - left;
      const woBegin = Math.min(outWidth, Math.max(0, Math.ceil(-shift / strideWidth)));
      const woEnd = Math.max(woBegin, Math.min(outWidth, Math.floor((inWidth - 1 - shift) / strideWidth) + 1));
      for (let c = 0; c < channels; c++) {
        let o = ((i * filterWidth + j) * channels + c) * rowBlock;
        for (let ho = 0; ho < outHeight; ho++, o += outRow) {
          const h = ho * strideHeight + i * dilationHeight - top;
          if (h < 0 || h >= inHeight) {
            cols.fill(0, o, o + outRow);
            continue;
          }
          cols.fill(0, o, o + woBegin * batch);
          cols.fill(0, o + woEnd * batch, o + outRow);
          const from = ((c * inHeight + h) * inWidth + woBegin * strideWidth + shift) * batch;
          if (strideWidth === 1) {
            // Consecutive output columns read consecutive input columns: one block copy.
            cols.set(x.subarray(from, from + (woEnd - woBegin) * batch), o + woBegin * batch);
          } else {
            let to = o + woBegin * batch;
            for (let wo = woBegin, src = from; wo < woEnd; wo++, src += strideWidth * batch) {
              for (let n = 0; n < batch; n++) cols[to++] = x[src + n];
            }
          }
        }
      }
    }
  }
  return out;
}
