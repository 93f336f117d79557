// Tensors as files store them: a dtype tag, a shape and the raw little-endian elements. Shared by the
// safetensors and PyTorch readers, so that both can be compared bit for bit before any conversion.
import { WeightFileError } from './errors';

/** The element types of the safetensors format (and the ones PyTorch checkpoints hold). */
export const RAW_DTYPES = ['F32', 'F16', 'BF16', 'F64', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL'] as const;
export type RawDtype = (typeof RAW_DTYPES)[number];

/**
 * The typed array holding each dtype's elements. F16 and BF16 keep their 16-bit patterns (JS has no such
 * float type); BOOL keeps one byte per element, 0 or 1.
 */
export interface RawDataByDtype {
  F32: Float32Array;
  F16: Uint16Array;
  BF16: Uint16Array;
  F64: Float64Array;
  I64: BigInt64Array;
  I32: Int32Array;
  I16: Int16Array;
  I8: Int8Array;
  U8: Uint8Array;
  BOOL: Uint8Array;
}
export type RawData = RawDataByDtype[RawDtype];

export interface RawTensor {
  dtype: RawDtype;
  shape: number[];
  /** Row-major (C order) elements; the array owns its buffer. */
  data: RawData;
}

export type RawTensorMap = Record<string, RawTensor>;

interface TypedArrayClass {
  readonly BYTES_PER_ELEMENT: number;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): RawData;
}

const ARRAY_CLASS: Record<RawDtype, TypedArrayClass> = {
  F32: Float32Array,
  F16: Uint16Array,
  BF16: Uint16Array,
  F64: Float64Array,
  I64: BigInt64Array,
  I32: Int32Array,
  I16: Int16Array,
  I8: Int8Array,
  U8: Uint8Array,
  BOOL: Uint8Array,
};

export function isRawDtype(value: unknown): value is RawDtype {
  return typeof value === 'string' && (RAW_DTYPES as readonly string[]).includes(value);
}

export function bytesPerElement(dtype: RawDtype): number {
  return ARRAY_CLASS[dtype].BYTES_PER_ELEMENT;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/**
 * Reads `bytes` as elements of `dtype`. The result is a view when `bytes` is suitably aligned and a copy
 * otherwise (typed arrays cannot start at an unaligned offset). Assumes a little-endian host, as every
 * platform tfjs runs on is.
 */
export function viewElements(dtype: RawDtype, bytes: Uint8Array): RawData {
  const Class = ARRAY_CLASS[dtype];
  const size = Class.BYTES_PER_ELEMENT;
  // `new Uint8Array(view)` copies; `slice` would not on a Node Buffer.
  const aligned = bytes.byteOffset % size === 0 ? bytes : new Uint8Array(bytes);
  return new Class(aligned.buffer, aligned.byteOffset, Math.floor(aligned.byteLength / size));
}

/** Copies `bytes` (exactly `shape`'s element count of `dtype`) into a tensor that owns its data. */
export function rawTensorFromBytes(dtype: RawDtype, shape: number[], bytes: Uint8Array): RawTensor {
  const owned = new Uint8Array(bytes);
  return { dtype, shape, data: viewElements(dtype, owned) };
}

/** The tensor's elements as bytes (a view, not a copy). */
export function rawTensorBytes(tensor: RawTensor): Uint8Array {
  const { data } = tensor;
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Throws unless `tensor.data` has the type and length its dtype and shape call for. */
export function checkRawTensor(source: string, name: string, tensor: RawTensor): void {
  if (!isRawDtype(tensor.dtype)) {
    throw new WeightFileError(source, `has dtype '${String(tensor.dtype)}'; valid: ${RAW_DTYPES.join(', ')}`, name);
  }
  if (!tensor.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new WeightFileError(source, `has shape [${tensor.shape}]: dimensions must be integers >= 0`, name);
  }
  const Class = ARRAY_CLASS[tensor.dtype];
  const expected = elementCount(tensor.shape);
  if (!(tensor.data instanceof Class) || tensor.data.length !== expected) {
    throw new WeightFileError(
      source,
      `is ${tensor.dtype} [${tensor.shape}] and needs a ${Class.name} of ${expected} elements, ` +
        `got a ${tensor.data.constructor.name} of ${tensor.data.length}`,
      name,
    );
  }
}
