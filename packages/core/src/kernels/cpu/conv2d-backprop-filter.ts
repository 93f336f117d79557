// The cpu backend's Conv2DBackpropFilter reads every element through TensorBuffer.get in an order that strides
// across the channels: about 0.01 GFLOP/s. This one walks the same sums with typed arrays, the output channels
// innermost (contiguous in both dy and dW). Each filter element is still the float64 sum, in the same order, of
// the same float32 products, so the result is bit-identical to the original's.
import * as tf from '@tensorflow/tfjs-core';

interface CpuBackend {
  data: { get(dataId: object): { values: tf.backend_util.TypedArray } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: tf.backend_util.TypedArray): tf.TensorInfo;
}

function conv2DBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const backend = args.backend as CpuBackend;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(dataFormat),
  );
  if (info.dataFormat !== 'channelsLast') throw new Error('Conv2DBackpropFilter (@qsattn/core, cpu): only NHWC');
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
  const { strideHeight, strideWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const xs = backend.data.get(x.dataId).values as Float32Array;
  const dys = backend.data.get(dy.dataId).values as Float32Array;
  const sums = new Float64Array(filterHeight * filterWidth * inChannels * outChannels);
  for (let wr = 0; wr < filterHeight; wr++) {
    const yrMin = Math.max(0, Math.ceil((top - wr) / strideHeight));
    const yrMax = Math.min(outHeight, Math.ceil((inHeight + top - wr) / strideHeight));
    for (let wc = 0; wc < filterWidth; wc++) {
      const ycMin = Math.max(0, Math.ceil((left - wc) / strideWidth));
      const ycMax = Math.min(outWidth, Math.ceil((inWidth + left - wc) / strideWidth));
      const tap = (wr * filterWidth + wc) * inChannels * outChannels;
      for (let b = 0; b < batchSize; b++) {
        for (let yr = yrMin; yr < yrMax; yr++) {
          const xr = wr + yr * strideHeight - top;
          for (let yc = ycMin; yc < ycMax; yc++) {
            const xc = wc + yc * strideWidth - left;
            const xAt = ((b * inHeight + xr) * inWidth + xc) * inChannels;
            const dyAt = ((b * outHeight + yr) * outWidth + yc) * outChannels;
            for (let ci = 0; ci < inChannels; ci++) {
              const xv = xs[xAt + ci];
              const row = tap + ci * outChannels;
              for (let co = 0; co < outChannels; co++) sums[row + co] += xv * dys[dyAt + co];
            }
          }
        }
      }
    }
  }
  return backend.makeTensorInfo(info.filterShape, 'float32', Float32Array.from(sums));
}

export const cpuConv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'cpu',
  kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc,
};
