import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { WeightFileError } from './errors';
import { RAW_DTYPES, rawTensorBytes, type RawTensor, type RawTensorMap } from './raw-tensor';
import { readSafetensors, writeSafetensors } from './safetensors';

const testdata = join(dirname(fileURLToPath(import.meta.url)), '../../../../testdata');

/** One small tensor per dtype, with edge values (NaN bits, int extremes, 0-d and empty shapes). */
function everyDtype(): RawTensorMap {
  return {
    f32: { dtype: 'F32', shape: [2, 2], data: new Float32Array([1.5, -0, NaN, -Infinity]) },
    f16: { dtype: 'F16', shape: [3], data: new Uint16Array([0x3c00, 0xfc00, 0x7e01]) },
    bf16: { dtype: 'BF16', shape: [1, 2], data: new Uint16Array([0x3f80, 0x8001]) },
    f64: { dtype: 'F64', shape: [], data: new Float64Array([Math.PI]) },
    i64: { dtype: 'I64', shape: [2], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]) },
    i32: { dtype: 'I32', shape: [2], data: new Int32Array([-(2 ** 31), 2 ** 31 - 1]) },
    i16: { dtype: 'I16', shape: [1, 1, 2], data: new Int16Array([-32768, 32767]) },
    i8: { dtype: 'I8', shape: [3], data: new Int8Array([-128, 0, 127]) },
    u8: { dtype: 'U8', shape: [0, 4], data: new Uint8Array(0) },
    bool: { dtype: 'BOOL', shape: [3], data: new Uint8Array([1, 0, 1]) },
  };
}

function expectSameTensors(actual: RawTensorMap, expected: RawTensorMap): void {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [name, want] of Object.entries(expected)) {
    const got: RawTensor = actual[name];
    expect({ name, dtype: got.dtype, shape: got.shape }).toEqual({ name, dtype: want.dtype, shape: want.shape });
    expect(got.data.constructor).toBe(want.data.constructor);
    expect(rawTensorBytes(got), name).toEqual(rawTensorBytes(want));
  }
}

/** A safetensors file with the given header object and `dataLength` zero bytes of data. */
function withHeader(header: unknown, dataLength: number, headerText = JSON.stringify(header)): Uint8Array {
  const json = new TextEncoder().encode(headerText);
  const bytes = new Uint8Array(8 + json.length + dataLength);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
  bytes.set(json, 8);
  return bytes;
}

describe('safetensors', () => {
  test('round-trips every dtype bit for bit, with metadata', () => {
    const tensors = everyDtype();
    expect(
      Object.values(tensors)
        .map((t) => t.dtype)
        .sort(),
    ).toEqual([...RAW_DTYPES].sort());
    const bytes = writeSafetensors(tensors, { step: '7', note: 'ünïcode' });
    const back = readSafetensors(bytes, 'round-trip');
    expectSameTensors(back.tensors, tensors);
    expect(back.metadata).toEqual({ step: '7', note: 'ünïcode' });
  });

  test('pads the header with spaces to 8 bytes and aligns every tensor to its element size', () => {
    const bytes = writeSafetensors(everyDtype());
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(headerLength % 8).toBe(0);
    const headerText = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength));
    expect(headerText).toMatch(/} *$/);
    const header = JSON.parse(headerText) as Record<string, { dtype: string; data_offsets: [number, number] }>;
    const sizes: Record<string, number> = {
      F64: 8,
      I64: 8,
      F32: 4,
      I32: 4,
      F16: 2,
      BF16: 2,
      I16: 2,
      I8: 1,
      U8: 1,
      BOOL: 1,
    };
    for (const {
      dtype,
      data_offsets: [begin],
    } of Object.values(header))
      expect(begin % sizes[dtype]).toBe(0);
    expect(header.__metadata__).toBeUndefined();
  });

  test('reads what Python writes (the fixture and the pth-extra expectations)', () => {
    const fixture = readSafetensors(
      readFileSync(join(testdata, 'fixtures/pth/qs_ngf8_expected.safetensors')),
      'fixture',
    );
    expect(fixture.tensors['input.image'].shape).toEqual([1, 3, 64, 64]);
    expect(fixture.tensors['state.model.1.weight'].dtype).toBe('F32');
    const dtypes = readSafetensors(readFileSync(join(testdata, 'pth-extra/dtypes.expected.safetensors'))).tensors;
    expect(dtypes.i64.data).toEqual(new BigInt64Array([-(2n ** 31n), 2n ** 31n - 1n, 0n, -5n]));
    expect(dtypes.bool.data).toEqual(new Uint8Array([1, 0, 0, 1]));
    // Re-writing what we read reproduces the same tensors.
    expectSameTensors(readSafetensors(writeSafetensors(dtypes)).tensors, dtypes);
  });

  test('reads from a Node Buffer at an odd offset (unaligned views are copied)', () => {
    const bytes = writeSafetensors(everyDtype());
    const shifted = Buffer.alloc(bytes.length + 1);
    shifted.set(bytes, 1);
    expectSameTensors(readSafetensors(shifted.subarray(1)).tensors, everyDtype());
  });

  test('a truncated file names the file and the tensor cut short', () => {
    const bytes = writeSafetensors(everyDtype());
    const cut = bytes.subarray(0, bytes.length - 3);
    expect(() => readSafetensors(cut, 'weights.safetensors')).toThrowError(
      /^weights\.safetensors: tensor '\w+' has data_offsets \[\d+, \d+\] beyond the \d+ data bytes the file holds \(file truncated\?\)$/,
    );
    expect(() => readSafetensors(bytes.subarray(0, 20), 'weights.safetensors')).toThrowError(
      /^weights\.safetensors: declares a \d+-byte header but holds only 12 bytes/,
    );
    expect(() => readSafetensors(bytes.subarray(0, 5), 'w.safetensors')).toThrowError('w.safetensors: is 5 bytes long');
  });

  test('refuses malformed headers, naming the file and the tensor', () => {
    const entry = (dtype: string, shape: number[], offsets: number[]) => ({ dtype, shape, data_offsets: offsets });
    const cases: [Uint8Array, RegExp][] = [
      [withHeader(null, 0, '{"a": '), /^x\.st: has a header that is not valid UTF-8 JSON/],
      [withHeader([1, 2], 0), /^x\.st: has a header that is not a JSON object$/],
      [
        withHeader({ a: entry('F8', [1], [0, 1]) }, 1),
        /^x\.st: tensor 'a' has dtype "F8"; valid: F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL$/,
      ],
      [
        withHeader({ a: entry('F32', [2, 2], [0, 12]) }, 16),
        /^x\.st: tensor 'a' is F32 \[2,2\] and needs 16 bytes, but its data_offsets \[0, 12\] span 12$/,
      ],
      [withHeader({ a: entry('F32', [-1], [0, 0]) }, 0), /^x\.st: tensor 'a' has shape \[-1\]/],
      [
        withHeader({ a: entry('F32', [1], [4, 0]) }, 4),
        /^x\.st: tensor 'a' has data_offsets \[4,0\]; expected \[begin, end\]$/,
      ],
      [
        withHeader({ a: entry('F32', [2], [0, 8]), b: entry('I32', [2], [4, 12]) }, 12),
        /^x\.st: tensor 'b' has data_offsets \[4, 12\] overlapping those of 'a' \[0, 8\]$/,
      ],
      [withHeader({ __metadata__: { step: 3 } }, 0), /^x\.st: has __metadata__\.step = 3; values must be strings$/],
    ];
    for (const [bytes, message] of cases) {
      expect(() => readSafetensors(bytes, 'x.st')).toThrowError(message);
      expect(() => readSafetensors(bytes, 'x.st')).toThrowError(WeightFileError);
    }
  });

  test('refuses to write data that does not match its dtype and shape', () => {
    const bad = { w: { dtype: 'F32', shape: [3], data: new Float32Array(2) } } as RawTensorMap;
    expect(() => writeSafetensors(bad, {}, 'out.safetensors')).toThrowError(
      "out.safetensors: tensor 'w' is F32 [3] and needs a Float32Array of 3 elements, got a Float32Array of 2",
    );
    const wrongType = { w: { dtype: 'I64', shape: [1], data: new Int32Array(1) } } as unknown as RawTensorMap;
    expect(() => writeSafetensors(wrongType)).toThrowError(/needs a BigInt64Array of 1 elements, got a Int32Array/);
  });
});
