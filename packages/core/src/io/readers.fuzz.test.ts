// Fuzzed readers of outside bytes: safetensors, PyTorch zip and legacy checkpoints, the pickle VM and the
// tfjs weights format. Every input must give a correct read or our one-line WeightFileError naming the file.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { fc } from '@fast-check/vitest';
import { beforeAll, describe, expect, test } from 'vitest';
import { useBackend } from '../testing/harness';
import { concat, expectReadOrTypedError, fuzzProperty, mutatedBytes, mutatedJson, mutationArbitrary, position } from '../testing/fuzz';
import { WeightFileError } from './errors';
import { OP } from './pickle-opcodes';
import { unpickle } from './pickle';
import { readPth } from './pth';
import { RAW_DTYPES, checkRawTensor, rawTensorBytes, type RawTensorMap } from './raw-tensor';
import { readSafetensors, writeSafetensors } from './safetensors';
import { encodeTfjsWeights, decodeTfjsWeights } from './tfjs-weights';
import { collectTensors, storageFromPersistentId, torchPickleGlobals } from './torch-pickle';

const extra = (name: string) =>
  new Uint8Array(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../../../testdata/pth-extra', name)));

/** A correct read: every tensor's data fits its dtype and shape, and the tensors hold a bounded multiple of the file. */
function checkTensors(tensors: RawTensorMap, fileBytes: number, maxExpansion: number): void {
  let total = 0;
  for (const [name, t] of Object.entries(tensors)) {
    checkRawTensor('read', name, t);
    total += rawTensorBytes(t).byteLength;
  }
  expect(total).toBeLessThanOrEqual(maxExpansion * fileBytes + 64 * 2 ** 20);
}

function sampleTensors(): RawTensorMap {
  return {
    'model.1.weight': { dtype: 'F32', shape: [2, 1, 2, 2], data: new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]) },
    'model.1.bias': { dtype: 'F32', shape: [2], data: new Float32Array([0.5, -0.5]) },
    half: { dtype: 'F16', shape: [3], data: new Uint16Array([0x3c00, 0xfc00, 0x7e01]) },
    step: { dtype: 'I64', shape: [], data: new BigInt64Array([7n]) },
    empty: { dtype: 'U8', shape: [0, 4], data: new Uint8Array(0) },
    mask: { dtype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) },
  };
}

describe('safetensors', () => {
  const seeds = [writeSafetensors(sampleTensors(), { qsattn: '{"step":3}' }), writeSafetensors({})];
  fuzzProperty('safetensors', 'mutated files', mutatedBytes(seeds), (bytes) =>
    expectReadOrTypedError(() => readSafetensors(bytes, 'f.safetensors'), WeightFileError, 'f.safetensors: ', (r) =>
      checkTensors(r.tensors, bytes.length, 1),
    ),
  );

  const dimension = fc.oneof(fc.nat(8), fc.constantFrom(0, 2 ** 31, 1e12, 2 ** 53, -1, 1.5, '3', null));
  const entry = fc.record({
    dtype: fc.oneof(fc.constantFrom(...RAW_DTYPES), fc.constantFrom('F8', '', null, 4)),
    shape: fc.oneof(fc.array(dimension, { maxLength: 4 }), fc.constantFrom(null, 'x', [1e6, 1e6, 1e6])),
    data_offsets: fc.oneof(fc.tuple(fc.nat(64), fc.nat(64)), fc.tuple(fc.constantFrom(0, 2 ** 32, 2 ** 53, 1e12, -8), fc.constantFrom(4e12, 2 ** 53, 8, -1)), fc.constant(null)),
  });
  const header = fc.dictionary(fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('__proto__', '__metadata__', 'constructor')), fc.oneof(entry, fc.anything()), { maxKeys: 5 });
  fuzzProperty('safetensors', 'headers with lying dtypes, shapes and offsets', fc.tuple(header, fc.nat(64)), ([h, dataLength]) => {
    const json = new TextEncoder().encode(JSON.stringify(h));
    const bytes = new Uint8Array(8 + json.length + dataLength);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
    bytes.set(json, 8);
    return expectReadOrTypedError(() => readSafetensors(bytes, 'h.safetensors'), WeightFileError, 'h.safetensors: ', (r) =>
      checkTensors(r.tensors, bytes.length, 1),
    );
  });

  test('a header claiming 10¹² elements is refused without allocating them', () => {
    const before = process.memoryUsage().arrayBuffers;
    const bytes = concat(
      new Uint8Array(8),
      new TextEncoder().encode(JSON.stringify({ w: { dtype: 'F32', shape: [1e12], data_offsets: [0, 4e12] } })),
    );
    new DataView(bytes.buffer).setBigUint64(0, BigInt(bytes.length - 8), true);
    expect(() => readSafetensors(bytes, 'big.safetensors')).toThrowError(/^big\.safetensors: tensor 'w' has data_offsets \[0, 4000000000000\] beyond/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(2 ** 20);
  });
});

describe('PyTorch checkpoints', () => {
  const zips = ['dtypes.pth', 'deflate.pth', 'zip64.pth', 'views.pth', 'nested.pth', 'protocol4.pth'].map(extra);
  fuzzProperty('pth zip', 'mutated files', mutatedBytes(zips), (bytes) =>
    expectReadOrTypedError(() => readPth(bytes, 'z.pth'), WeightFileError, 'z.pth: ', (t) => checkTensors(t, bytes.length, 8)),
  );
  const legacy = ['legacy.pth', 'legacy_views.pth'].map(extra);
  fuzzProperty('pth legacy', 'mutated files', mutatedBytes(legacy), (bytes) =>
    expectReadOrTypedError(() => readPth(bytes, 'l.pth'), WeightFileError, 'l.pth: ', (t) => checkTensors(t, bytes.length, 8)),
  );

  test('a compression bomb (an honest DEFLATE entry of 24 MiB of zeros) is refused before inflating', async () => {
    const { deflateSync, zipSync } = await import('fflate');
    const zeros = new Uint8Array(24 * 2 ** 20);
    const archive = zipSync({ 'bomb/data.pkl': [zeros, { level: 9 }] });
    expect(deflateSync(zeros).length).toBeLessThan(2 ** 17);
    const before = process.memoryUsage().arrayBuffers;
    expect(() => readPth(archive, 'bomb.pth')).toThrowError(/^bomb\.pth: zip entry 'bomb\/data\.pkl' would inflate .* refusing a compression bomb$/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(2 ** 20);
  });

  test('an expanded view declaring 10⁹ elements of a 1-element storage is refused', () => {
    // The legacy format's main pickle: {'w': _rebuild_tensor_v2(storage(1 float), 0, (10⁹,), (0,))}.
    const bytes = legacyWith([OP.EMPTY_DICT, ...shortUnicode('w'), ...global('torch._utils', '_rebuild_tensor_v2'),
      OP.MARK, OP.MARK, ...shortUnicode('storage'), ...global('torch', 'FloatStorage'), ...shortUnicode('0'), ...shortUnicode('cpu'),
      OP.BININT1, 1, OP.NONE, OP.TUPLE, OP.BINPERSID, OP.BININT1, 0, OP.BININT, ...int32(1e9), OP.TUPLE1, OP.BININT1, 0, OP.TUPLE1, OP.TUPLE,
      OP.REDUCE, OP.SETITEM, OP.STOP], ['0'], new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x3f]));
    const before = process.memoryUsage().arrayBuffers;
    expect(() => readPth(bytes, 'view.pth')).toThrowError(/^view\.pth: tensor 'w' would expand to more than \d+ bytes/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(2 ** 20);
  });
});

function int32(n: number): number[] {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, n, true);
  return [...b];
}
function shortUnicode(s: string): number[] {
  const b = new TextEncoder().encode(s);
  return [OP.SHORT_BINUNICODE, b.length, ...b];
}
function global(module: string, name: string): number[] {
  return [OP.GLOBAL, ...new TextEncoder().encode(`${module}\n${name}\n`)];
}

/** A legacy-format checkpoint around the given main pickle, storage keys and storage bytes. */
function legacyWith(main: number[], keys: string[], storages: Uint8Array): Uint8Array {
  const magic = [0x80, 2, OP.LONG1, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, OP.STOP];
  const version = [0x80, 2, OP.BININT2, 0xe9, 0x03, OP.STOP];
  const sysInfo = [0x80, 2, OP.EMPTY_DICT, OP.STOP];
  const keyList = [0x80, 2, OP.EMPTY_LIST, OP.MARK, ...keys.flatMap(shortUnicode), OP.APPENDS, OP.STOP];
  return concat(new Uint8Array([...magic, ...version, ...sysInfo, 0x80, 2, ...main, ...keyList]), storages);
}

describe('pickle VM', () => {
  const text = fc.oneof(fc.constantFrom('storage', 'cpu', '0', 'w', 'collections', 'OrderedDict', 'torch._utils', '_rebuild_tensor_v2', 'torch', 'FloatStorage', 'os', 'system'), fc.string({ maxLength: 8 }));
  const encode = (s: string) => [...new TextEncoder().encode(s)];
  const u32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
  const plain = (op: number) => fc.constant<number[]>([op]);
  const opcode: fc.Arbitrary<number[]> = fc.oneof(
    ...[OP.MARK, OP.POP, OP.POP_MARK, OP.EMPTY_TUPLE, OP.TUPLE, OP.TUPLE1, OP.TUPLE2, OP.TUPLE3, OP.EMPTY_LIST, OP.APPEND,
      OP.APPENDS, OP.EMPTY_DICT, OP.SETITEM, OP.SETITEMS, OP.NONE, OP.NEWTRUE, OP.NEWFALSE, OP.REDUCE, OP.BUILD,
      OP.BINPERSID, OP.MEMOIZE, OP.STOP].map(plain),
    fc.integer({ min: 0, max: 7 }).map((v) => [OP.PROTO, v]),
    fc.nat(255).map((v) => [OP.BININT1, v]),
    fc.integer().map((v) => [OP.BININT, ...int32(v)]),
    fc.uint8Array({ maxLength: 9 }).map((b) => [OP.LONG1, b.length, ...b]),
    text.map((s) => [OP.SHORT_BINUNICODE, encode(s).length, ...encode(s)]),
    fc.tuple(text, fc.oneof(fc.constant(-1), fc.constantFrom(0xffffffff, 0x7fffffff))).map(([s, lie]) => [OP.BINUNICODE, ...u32(lie < 0 ? encode(s).length : lie), ...encode(s)]),
    fc.tuple(text, text).map(([m, n]) => [OP.GLOBAL, ...encode(`${m}\n${n}\n`)]),
    plain(OP.STACK_GLOBAL),
    fc.nat(4).map((v) => [OP.BINPUT, v]),
    fc.nat(4).map((v) => [OP.BINGET, v]),
    fc.nat(255).map((v) => [v]), // any byte: unknown or refused opcodes
  );
  // Well-formed state-dict pickles (dicts of tensors, numbers, strings, lists, nested dicts), into which random
  // opcodes are then spliced: most cases get past the first few opcodes and reach the deeper states.
  const shortText = (s: string) => [OP.SHORT_BINUNICODE, encode(s).length, ...encode(s)];
  const tuple = (items: number[][]) => [OP.MARK, ...items.flat(), OP.TUPLE];
  const dim = fc.oneof(fc.nat(4), fc.constantFrom(0, 1000, 1e9, 0x7fffffff));
  const tensor = fc.record({ key: fc.constantFrom('0', '1', '2'), numel: fc.oneof(fc.nat(16), fc.constant(1e9)), offset: fc.nat(4), shape: fc.array(dim, { maxLength: 3 }), stride: fc.array(dim, { maxLength: 3 }) })
    .map(({ key, numel, offset, shape, stride }) => [
      ...global('torch._utils', '_rebuild_tensor_v2'),
      ...tuple([tuple([shortText('storage'), global('torch', 'FloatStorage'), shortText(key), shortText('cpu'), [OP.BININT, ...int32(numel)]]), [OP.BINPERSID],
        [OP.BININT1, offset], tuple(shape.map((d) => [OP.BININT, ...int32(d)])), tuple(stride.map((d) => [OP.BININT, ...int32(d)])), [OP.NEWFALSE]]),
      OP.REDUCE,
    ]);
  const { value } = fc.letrec<{ value: number[] }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constant<number[]>([OP.NONE]),
      fc.integer().map((v) => [OP.BININT, ...int32(v)]),
      text.map(shortText),
      tensor,
      fc.array(tie('value'), { maxLength: 4 }).map((items) => [OP.EMPTY_LIST, OP.MARK, ...items.flat(), OP.APPENDS]),
      fc.array(fc.tuple(text, tie('value')), { maxLength: 4 }).map((entries) => [OP.EMPTY_DICT, OP.MARK, ...entries.flatMap(([k, v]) => [...shortText(k), ...v]), OP.SETITEMS]),
    ),
  }));
  const stateDict = fc.array(fc.tuple(text, value), { maxLength: 6 }).map((entries) => [
    ...global('collections', 'OrderedDict'), OP.EMPTY_TUPLE, OP.REDUCE, OP.MARK, ...entries.flatMap(([k, v]) => [...shortText(k), ...v]), OP.SETITEMS,
  ]);
  const program = fc
    .tuple(stateDict, fc.array(fc.tuple(position, opcode), { maxLength: 3 }), fc.boolean())
    .map(([ops, splices, stop]) => {
      const body = [...ops];
      for (const [at, inserted] of splices) body.splice(Math.floor(at * (body.length + 1)), 0, ...inserted);
      return new Uint8Array([0x80, 2, ...body, ...(stop || splices.length === 0 ? [OP.STOP] : [])]);
    });
  fuzzProperty('pickle VM', 'generated opcode programs', program, async (bytes) => {
    const options = { source: 'p.pkl', globals: torchPickleGlobals(), persistentLoad: (id: unknown) => storageFromPersistentId(id, 'p.pkl') };
    return expectReadOrTypedError(() => collectTensors(unpickle(bytes, 0, options).value, 'p.pkl'), WeightFileError, 'p.pkl: ');
  }, 400);

  const hostile = (name: string, ops: number[]) =>
    test(name, () => {
      const bytes = new Uint8Array([0x80, 2, ...ops, OP.STOP]);
      const options = { source: 'h.pkl', globals: torchPickleGlobals() };
      expect(() => collectTensors(unpickle(bytes, 0, options).value, 'h.pkl')).toThrowError(/^h\.pkl: /);
    });
  const depth = 200_000;
  hostile('200,000 nested lists (no recursion, a typed error)', [OP.EMPTY_DICT, OP.SHORT_BINUNICODE, 1, 0x61, ...Array(depth).fill(OP.EMPTY_LIST), ...Array(depth).fill(OP.APPEND), OP.SETITEM]);
  hostile('a list that holds itself through the memo', [OP.EMPTY_DICT, OP.SHORT_BINUNICODE, 1, 0x61, OP.EMPTY_LIST, OP.BINPUT, 0, OP.BINGET, 0, OP.APPEND, OP.SETITEM]);
  hostile('a billion-laughs DAG of shared lists', [OP.EMPTY_DICT, OP.SHORT_BINUNICODE, 1, 0x61, OP.EMPTY_LIST, ...Array.from({ length: 40 }, () => [OP.BINPUT, 0, OP.EMPTY_LIST, OP.BINGET, 0, OP.APPEND, OP.BINGET, 0, OP.APPEND]).flat(), OP.SETITEM]);
  test('APPENDS of 300,000 items does not overflow the call stack', () => {
    const bytes = new Uint8Array([0x80, 2, OP.EMPTY_LIST, OP.MARK, ...Array(300_000).fill(OP.NONE), OP.APPENDS, OP.STOP]);
    expect((unpickle(bytes, 0, { source: 'a.pkl', globals: new Map() }).value as unknown[]).length).toBe(300_000);
  });
});

describe('tfjs weights', () => {
  let seed: Awaited<ReturnType<typeof encodeTfjsWeights>>;
  beforeAll(async () => {
    await useBackend('cpu');
    const tensors = { 'model.1.weight': tf.tensor2d([1, 2, 3, 4], [2, 2]), step: tf.scalar(3, 'int32'), mask: tf.tensor1d([true, false], 'bool') };
    seed = await encodeTfjsWeights(tensors);
    tf.dispose(Object.values(tensors));
  });
  const decode = (manifest: unknown, shards: Record<string, Uint8Array>) =>
    expectReadOrTypedError(() => decodeTfjsWeights({ manifest: manifest as never, shards }, 'w.json'), WeightFileError, 'w.json: ', (t) => {
      for (const x of Object.values(t)) expect(x.size).toBeLessThanOrEqual(64);
      tf.dispose(Object.values(t));
    });
  fuzzProperty('tfjs weights', 'mutated manifests', mutatedJson({ weightsManifest: [{ paths: ['s.bin'], weights: [
    { name: 'model.1.weight', shape: [2, 2], dtype: 'float32' }, { name: 'step', shape: [], dtype: 'int32' },
    { name: 'q', shape: [2], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.5, min: -1 } }] }] }), (manifest) =>
    decode(manifest, { 's.bin': new Uint8Array(32) }),
  );
  // The seed shard is encoded in beforeAll, after the arbitraries are made: the mutations apply to it in the check.
  fuzzProperty('tfjs weights', 'mutated shards', fc.array(mutationArbitrary(), { minLength: 1, maxLength: 4 }), (mutations) => {
    const [path, bytes] = Object.entries(seed.shards)[0];
    return decode(seed.manifest, { [path]: mutations.reduce<Uint8Array>((b, mutate) => mutate(b), bytes) });
  });
});
