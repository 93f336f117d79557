import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { WeightFileError } from './errors';
import { readPth } from './pth';
import { rawTensorBytes, type RawTensorMap } from './raw-tensor';
import { readSafetensors } from './safetensors';

const testdata = join(dirname(fileURLToPath(import.meta.url)), '../../../../testdata');
const extra = (name: string) => readFileSync(join(testdata, 'pth-extra', name));
const officialPth = () => readFileSync(join(testdata, 'fixtures/pth/qs_ngf8_net_G.pth'));

function expectBitIdentical(actual: RawTensorMap, expected: RawTensorMap): void {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [name, want] of Object.entries(expected)) {
    const got = actual[name];
    expect({ name, dtype: got.dtype, shape: got.shape }).toEqual({ name, dtype: want.dtype, shape: want.shape });
    expect(Buffer.from(rawTensorBytes(got)).equals(Buffer.from(rawTensorBytes(want))), `${name} bytes`).toBe(true);
  }
}

function thrown(fn: () => unknown): WeightFileError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WeightFileError);
    return e as WeightFileError;
  }
  throw new Error('expected an error');
}

describe('readPth', () => {
  test('reads the official generator checkpoint bit for bit (every state.<name> of the fixture)', () => {
    const tensors = readPth(officialPth(), 'qs_ngf8_net_G.pth');
    const fixture = readSafetensors(readFileSync(join(testdata, 'fixtures/pth/qs_ngf8_expected.safetensors'))).tensors;
    const expected = Object.fromEntries(
      Object.entries(fixture)
        .filter(([name]) => name.startsWith('state.'))
        .map(([name, t]) => [name.slice('state.'.length), t]),
    );
    expect(Object.keys(expected).length).toBe(52);
    expectBitIdentical(tensors, expected);
  });

  test.each([
    ['legacy', 'legacy (non-zip) format, a module state dict with _metadata, int64 buffer, 0-d tensor'],
    ['dtypes', 'float16 (inf, subnormal, -0), bfloat16, float64, int64, int32, int16, int8, uint8, bool'],
    ['views', 'transposed, offset, strided and stride-0 views, shared storage, 0-d views, empty tensor'],
    ['legacy_views', 'the same views in the legacy format'],
    ['nested', 'a dict nesting a state dict, lists, a Parameter and non-tensor values'],
    ['protocol4', 'pickle protocol 4 (FRAME, MEMOIZE, STACK_GLOBAL, SHORT_BINUNICODE)'],
    ['deflate', 'zip entries compressed with DEFLATE'],
    ['zip64', 'zip64 end records and central directory extras'],
  ])('%s.pth equals what torch saved: %s', (name) => {
    const expected = readSafetensors(extra(`${name}.expected.safetensors`)).tensors;
    expectBitIdentical(readPth(extra(`${name}.pth`), `${name}.pth`), expected);
  });

  test('nested checkpoints give dotted names and skip non-tensor values', () => {
    expect(Object.keys(readPth(extra('nested.pth')))).toEqual([
      'state_dict.a.weight',
      'state_dict.a.bias',
      'history.0',
      'model.b',
      'model.param',
    ]);
  });

  test.each([
    ['malicious_system.pth', /^malicious_system\.pth: names the global '(os|posix)\.system', which is not allowed/],
    [
      'malicious_eval.pth',
      /^malicious_eval\.pth: names the global '(builtins|__builtin__)\.eval', which is not allowed/,
    ],
    ['malicious_legacy.pth', /^malicious_legacy\.pth: uses pickle opcode INST \(0x69\), which is not allowed/],
  ])('refuses %s without running it', (file, message) => {
    const marker = '/tmp/qsattn-pickle-was-executed'; // what the payloads would create (see make.py)
    const existedBefore = existsSync(marker);
    expect(() => readPth(extra(file), file)).toThrowError(message);
    expect(existsSync(marker)).toBe(existedBefore);
  });

  test('refuses big-endian checkpoints', () => {
    expect(() => readPth(extra('big_endian.pth'), 'big_endian.pth')).toThrowError(
      'big_endian.pth: stores big-endian tensors (byteorder "big"); only little-endian checkpoints are supported',
    );
  });

  test('a zip cut inside a storage names the file, the tensor and the missing bytes', () => {
    const bytes = officialPth();
    // data/0 (model.1.weight, 4704 bytes) starts right after its local header at byte 9747.
    const error = thrown(() => readPth(bytes.subarray(0, 12000), 'qs_net_G.pth'));
    expect(error.message).toMatch(
      /^qs_net_G\.pth: tensor 'model\.1\.weight' needs 4704 bytes of storage '0' but the archive holds \d+ \(file truncated\?\)$/,
    );
    expect(error.tensor).toBe('model.1.weight');
    expect(error.source).toBe('qs_net_G.pth');
  });

  test('a zip cut after a storage names the next tensor whose storage is missing', () => {
    const bytes = officialPth();
    const error = thrown(() => readPth(bytes.subarray(0, 60000), 'g.pth'));
    expect(error.message).toMatch(
      /^g\.pth: (tensor '[\w.]+' needs \d+ bytes of storage '\d+' but the archive holds \d+ \(file truncated\?\)|references storage '\d+', but the archive has no entry '[\w/]+' \(file truncated\?\))$/,
    );
  });

  test('a zip with all its data but no central directory is still refused', () => {
    const bytes = officialPth();
    const directory = new DataView(bytes.buffer, bytes.byteOffset).getUint32(bytes.length - 22 + 16, true);
    expect(() => readPth(bytes.subarray(0, directory), 'g.pth')).toThrowError(
      'g.pth: is a zip without its central directory: the file is cut short (truncated download or copy?)',
    );
  });

  test('a zip cut inside data.pkl reports the cut pickle', () => {
    expect(() => readPth(officialPth().subarray(0, 5000), 'g.pth')).toThrowError(
      /^g\.pth: ends inside \w+, the pickle is cut short \(file truncated\?\)/,
    );
  });

  test('a legacy file cut inside a storage names the tensor', () => {
    const bytes = extra('legacy.pth');
    const error = thrown(() => readPth(bytes.subarray(0, bytes.length - 10), 'legacy.pth'));
    expect(error.message).toMatch(
      /^legacy\.pth: tensor '[\w.]+' needs \d+ bytes of storage '\d+' but the archive holds \d+ \(file truncated\?\)$/,
    );
  });

  test('a corrupted central directory names the file', () => {
    const bytes = new Uint8Array(officialPth());
    const view = new DataView(bytes.buffer);
    const directory = view.getUint32(bytes.length - 22 + 16, true);
    bytes[directory + 46 + view.getUint16(directory + 28, true) + 2] ^= 0xff; // inside entry 1's header
    expect(() => readPth(bytes, 'g.pth')).toThrowError(/^g\.pth: .*\(corrupted zip\?\)$/);
  });

  test('a corrupted storage fails its CRC check', () => {
    const bytes = new Uint8Array(officialPth());
    bytes[9747 + 200] ^= 1; // inside data/0, which starts 109 bytes after its local header
    expect(() => readPth(bytes, 'g.pth')).toThrowError(
      "g.pth: zip entry 'qs_ngf8_net_G/data/0' fails its CRC-32 check (file corrupted)",
    );
  });

  test('refuses files that are no checkpoint, and pickles that hold no dict', () => {
    expect(() => readPth(new TextEncoder().encode('hello'), 'notes.txt')).toThrowError(
      /^notes\.txt: is not a PyTorch checkpoint/,
    );
  });
});
