// A depthwise filter whose every output pixel reads a few input pixels through index tables, for the wasm and cpu
// backends: out[n,r,q,c] = Σ_{(y,i) ∈ rows[r]} Σ_{(x,j) ∈ cols[q]} f[i,j,c] · in[n,y,x,c]. The tables say which input
// row (column) each output row (column) reads through which filter row (column), so padding, stride and trimming
// are all folded into them: the anti-aliased upsampling (ops/blur.ts), which the op chain runs as a replicate pad, a
// transposed depthwise conv that multiplies stride² zeros and a slice, is one pass here. Its gradient is the same
// kernel on the transposed tables. Sums are taken in float64 and rounded once.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export const DEPTHWISE_RESAMPLE = 'QsattnDepthwiseResample';

/**
 * For each output index o, the entries start[o] … start[o+1]−1: the input index `source[t]` read through filter
 * index `tap[t]`. `inputSize` is the length of the input axis the sources index.
 */
export interface TapTable {
  start: number[];
  source: number[];
  tap: number[];
  inputSize: number;
}

export interface DepthwiseResampleAttrs {
  rows: TapTable;
  cols: TapTable;
}

/** The table of the adjoint map: for each input index, the outputs that read it and through which tap, in output order. */
export function transposeTable(table: TapTable): TapTable {
  const outputs = table.start.length - 1;
  const count = new Array<number>(table.inputSize).fill(0);
  for (const s of table.source) count[s]++;
  const start = [0];
  for (let i = 0; i < table.inputSize; i++) start.push(start[i] + count[i]);
  const next = start.slice(0, table.inputSize);
  const source = new Array<number>(table.source.length);
  const tap = new Array<number>(table.source.length);
  for (let o = 0; o < outputs; o++) {
    for (let t = table.start[o]; t < table.start[o + 1]; t++) {
      const at = next[table.source[t]]++;
      source[at] = o;
      tap[at] = table.tap[t];
    }
  }
  return { start, source, tap, inputSize: outputs };
}

function checkTable(table: TapTable, axis: string, inputSize: number, filterSize: number): void {
  if (table.inputSize !== inputSize) throw new Error(`${DEPTHWISE_RESAMPLE}: the ${axis} table reads ${table.inputSize} input ${axis}, the input has ${inputSize}`);
  if (table.source.some((s) => s < 0 || s >= inputSize) || table.tap.some((t) => t < 0 || t >= filterSize)) {
    throw new Error(`${DEPTHWISE_RESAMPLE}: the ${axis} table reads outside the input or the filter`);
  }
}

/** The kernel's loop: `out` [N, rows, cols, C] from `x` [N, H, W, C] and `filter` [kh, kw, C, 1]. */
export function depthwiseResampleInto(
  x: Float32Array,
  xShape: readonly number[],
  filter: Float32Array,
  filterWidth: number,
  { rows, cols }: DepthwiseResampleAttrs,
  out: Float32Array,
): void {
  const [n, h, w, c] = xShape;
  const outH = rows.start.length - 1;
  const outW = cols.start.length - 1;
  const acc = new Float64Array(c);
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < outH; r++) {
      const t0 = rows.start[r];
      const t1 = rows.start[r + 1];
      for (let q = 0; q < outW; q++) {
        const u0 = cols.start[q];
        const u1 = cols.start[q + 1];
        const o = ((b * outH + r) * outW + q) * c;
        if (t1 - t0 === 2 && u1 - u0 === 2) {
          // The upsampling's forward: two rows by two columns, with offsets (of channel 0) in registers.
          const ra = (b * h + rows.source[t0]) * w;
          const rb = (b * h + rows.source[t0 + 1]) * w;
          const ca = cols.source[u0];
          const cb = cols.source[u0 + 1];
          const x0 = (ra + ca) * c, x1 = (ra + cb) * c, x2 = (rb + ca) * c, x3 = (rb + cb) * c;
          const fa = rows.tap[t0] * filterWidth;
          const fb = rows.tap[t0 + 1] * filterWidth;
          const ga = cols.tap[u0];
          const gb = cols.tap[u0 + 1];
          const f0 = (fa + ga) * c, f1 = (fa + gb) * c, f2 = (fb + ga) * c, f3 = (fb + gb) * c;
          for (let k = 0; k < c; k++) {
            out[o + k] = filter[f0 + k] * x[x0 + k] + filter[f1 + k] * x[x1 + k] + filter[f2 + k] * x[x2 + k] + filter[f3 + k] * x[x3 + k];
          }
          continue;
        }
        acc.fill(0);
        for (let t = t0; t < t1; t++) {
          const row = (b * h + rows.source[t]) * w;
          const tapRow = rows.tap[t] * filterWidth;
          for (let u = u0; u < u1; u++) {
            const xp = (row + cols.source[u]) * c;
            const fp = (tapRow + cols.tap[u]) * c;
            for (let k = 0; k < c; k++) acc[k] += filter[fp + k] * x[xp + k];
          }
        }
        for (let k = 0; k < c; k++) out[o + k] = acc[k];
      }
    }
  }
}

function outShape(x: tf.TensorInfo, attrs: DepthwiseResampleAttrs): number[] {
  return [x.shape[0], attrs.rows.start.length - 1, attrs.cols.start.length - 1, x.shape[3]];
}

function check(x: tf.TensorInfo, filter: tf.TensorInfo, attrs: DepthwiseResampleAttrs): void {
  const [kh, kw, fc, m] = filter.shape;
  if (x.shape.length !== 4 || filter.shape.length !== 4 || fc !== x.shape[3] || m !== 1) {
    throw new Error(`${DEPTHWISE_RESAMPLE}: expected x [N, H, W, C] and filter [kh, kw, C, 1], got [${x.shape.join(', ')}] and [${filter.shape.join(', ')}]`);
  }
  checkTable(attrs.rows, 'rows', x.shape[1], kh);
  checkTable(attrs.cols, 'columns', x.shape[2], kw);
}

const wasmKernel: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { x, filter } = inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
  const a = attrs as unknown as DepthwiseResampleAttrs;
  check(x, filter, a);
  const wasm = backend as BackendWasm;
  // Allocate before taking views: growing the heap detaches every typed array over it.
  const out = wasm.makeOutput(outShape(x, a), 'float32');
  const view = (t: tf.TensorInfo): Float32Array => wasm.typedArrayFromHeap(t) as Float32Array;
  depthwiseResampleInto(view(x), x.shape, view(filter), filter.shape[1], a, view(out));
  return out;
};

interface CpuBackend {
  data: { get(dataId: object): { values: tf.backend_util.BackendValues } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: tf.backend_util.BackendValues): tf.TensorInfo;
}

const cpuKernel: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { x, filter } = inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
  const a = attrs as unknown as DepthwiseResampleAttrs;
  check(x, filter, a);
  const cpu = backend as unknown as CpuBackend;
  const shape = outShape(x, a);
  const out = new Float32Array(tf.util.sizeFromShape(shape));
  const values = (t: tf.TensorInfo): Float32Array => cpu.data.get(t.dataId).values as Float32Array;
  depthwiseResampleInto(values(x), x.shape, values(filter), filter.shape[1], a, out);
  return cpu.makeTensorInfo(shape, 'float32', out);
};

export const depthwiseResampleConfigs: readonly tf.KernelConfig[] = [
  { kernelName: DEPTHWISE_RESAMPLE, backendName: 'wasm', kernelFunc: wasmKernel },
  { kernelName: DEPTHWISE_RESAMPLE, backendName: 'cpu', kernelFunc: cpuKernel },
];

for (const config of depthwiseResampleConfigs) {
  if (tf.getKernel(config.kernelName, config.backendName) == null) tf.registerKernel(config);
}
