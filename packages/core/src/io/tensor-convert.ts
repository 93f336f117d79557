// Between raw file tensors and tfjs tensors. tfjs has float32, int32 and bool only: wider or narrower types
// are converted on the way in (losslessly where the values allow, with an error naming the tensor where not)
// and only those three are written.
import * as tf from '@tensorflow/tfjs-core';
import { WeightFileError } from './errors';
import type { RawTensor, RawTensorMap } from './raw-tensor';

const INT32_MIN = -(2n ** 31n);
const INT32_MAX = 2n ** 31n - 1n;

/** The value of an IEEE half-precision bit pattern (exact in float32). */
function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

function int64ToInt32(name: string, data: BigInt64Array, source: string): Int32Array {
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const value = data[i];
    if (value < INT32_MIN || value > INT32_MAX) {
      throw new WeightFileError(
        source,
        `holds the int64 value ${value} at element ${i}, outside int32 (tfjs has no int64)`,
        name,
      );
    }
    out[i] = Number(value);
  }
  return out;
}

/**
 * A tfjs tensor with the raw tensor's values: float16, bfloat16 and float64 become float32; int64, int16,
 * int8 and uint8 become int32; bool stays bool. `name` and `source` name the tensor in errors.
 */
export function rawToTensor(name: string, raw: RawTensor, source: string): tf.Tensor {
  switch (raw.dtype) {
    case 'F32':
      return tf.tensor(raw.data as Float32Array, raw.shape, 'float32');
    case 'F16':
      return tf.tensor(Float32Array.from(raw.data as Uint16Array, halfToFloat), raw.shape, 'float32');
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const bits = Uint32Array.from(raw.data as Uint16Array, (b) => b << 16);
      return tf.tensor(new Float32Array(bits.buffer), raw.shape, 'float32');
    }
    case 'F64':
      return tf.tensor(Float32Array.from(raw.data as Float64Array), raw.shape, 'float32');
    case 'I64':
      return tf.tensor(int64ToInt32(name, raw.data as BigInt64Array, source), raw.shape, 'int32');
    case 'I32':
      return tf.tensor(raw.data as Int32Array, raw.shape, 'int32');
    case 'I16':
    case 'I8':
    case 'U8':
      return tf.tensor(Int32Array.from(raw.data as Int16Array | Int8Array | Uint8Array), raw.shape, 'int32');
    case 'BOOL':
      return tf.tensor(raw.data as Uint8Array, raw.shape, 'bool');
  }
}

/** Converts every raw tensor; on an error, the tensors made so far are disposed. */
export function rawToTensors(raw: RawTensorMap, source: string): tf.NamedTensorMap {
  const tensors: tf.NamedTensorMap = {};
  try {
    for (const [name, tensor] of Object.entries(raw)) tensors[name] = rawToTensor(name, tensor, source);
  } catch (e) {
    tf.dispose(tensors);
    throw e;
  }
  return tensors;
}

const SAVABLE_DTYPES = ['float32', 'int32', 'bool'] as const;

/** The raw form of tfjs tensors, for writing: float32 → F32, int32 → I32, bool → BOOL. */
export async function tensorsToRaw(tensors: tf.NamedTensorMap, source: string): Promise<RawTensorMap> {
  const raw: RawTensorMap = {};
  for (const [name, tensor] of Object.entries(tensors)) {
    const shape = [...tensor.shape];
    if (tensor.dtype === 'float32') {
      raw[name] = { dtype: 'F32', shape, data: Float32Array.from(await tensor.data<'float32'>()) };
    } else if (tensor.dtype === 'int32') {
      raw[name] = { dtype: 'I32', shape, data: Int32Array.from(await tensor.data<'int32'>()) };
    } else if (tensor.dtype === 'bool') {
      raw[name] = { dtype: 'BOOL', shape, data: Uint8Array.from(await tensor.data<'bool'>()) };
    } else {
      throw new WeightFileError(source, `has dtype ${tensor.dtype}; savable: ${SAVABLE_DTYPES.join(', ')}`, name);
    }
  }
  return raw;
}
