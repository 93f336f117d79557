import { describe, expect, test } from 'vitest';
import { WeightFileError } from './errors';
import { PickleDict, isPickleTuple, unpickle, type PickleGlobal, type UnpickleOptions } from './pickle';

/** Pickle bytes from opcode strings (one char per byte) and byte lists. */
function bytes(...parts: (string | number[])[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p)));
}

const pair: PickleGlobal = { qualifiedName: 'test.pair', call: (args) => ({ pair: [...args] }) };
const options: UnpickleOptions = { source: 'test.pkl', globals: new Map([['test.pair', pair]]) };
const run = (data: Uint8Array, opts = options) => unpickle(data, 0, opts).value;

describe('pickle machine', () => {
  test('builds plain data: ints, floats, strings, None/bools, tuples, lists, dicts, memo', () => {
    const value = run(
      bytes(
        '\x80\x02}q\x00(', // PROTO 2, EMPTY_DICT, BINPUT 0, MARK
        'X\x01\x00\x00\x00a',
        'J',
        [0xfe, 0xff, 0xff, 0xff], // 'a': BININT -2
        '\x8c\x01b',
        'K\xff', // 'b': BININT1 255
        'U\x01c',
        'M\x34\x12', // 'c': BININT2 0x1234
        'U\x01d',
        'G',
        [0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18], // 'd': BINFLOAT pi (big-endian)
        'U\x01e',
        'N\x88\x89\x87', // 'e': (None, True, False)
        'U\x01f',
        ']q\x01(K\x01K\x02eK\x03a', // 'f': [1, 2] + APPEND 3
        'U\x01g',
        'h\x01', // 'g': BINGET 1 (the same list)
        'U\x01h',
        'T\x02\x00\x00\x00\xe9\xff', // 'h': BINSTRING, Latin-1
        'u.', // SETITEMS, STOP
      ),
    );
    expect(value).toBeInstanceOf(PickleDict);
    const entries = Object.fromEntries((value as PickleDict).entries);
    expect(entries).toEqual({
      a: -2,
      b: 255,
      c: 0x1234,
      d: Math.PI,
      e: [null, true, false],
      f: [1, 2, 3],
      g: [1, 2, 3],
      h: 'é\xff',
    });
    expect(entries.g).toBe(entries.f);
    expect(isPickleTuple(entries.e)).toBe(true);
    expect(isPickleTuple(entries.f)).toBe(false);
  });

  test('LONG1 gives a number when exact and a bigint beyond 2^53; negative values too', () => {
    expect(run(bytes('\x8a\x02\xff\x7f.'))).toBe(0x7fff);
    expect(run(bytes('\x8a\x01\xff.'))).toBe(-1);
    expect(run(bytes('\x8a\x00.'))).toBe(0);
    expect(run(bytes('\x8a\x0a', [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19], '.'))).toBe(
      0x1950a86a20f9469cfc6cn,
    );
  });

  test('calls allowed globals through REDUCE, also by STACK_GLOBAL with MEMOIZE and FRAME (protocol 4)', () => {
    expect(run(bytes('ctest\npair\nK\x01K\x02\x86R.'))).toEqual({ pair: [1, 2] });
    const protocol4 = bytes(
      '\x80\x04\x95',
      [20, 0, 0, 0, 0, 0, 0, 0],
      '\x8c\x04test\x94\x8c\x04pair\x94\x93\x94K\x05\x85R.',
    );
    expect(run(protocol4)).toEqual({ pair: [5] });
  });

  test('returns where the pickle ends, so that pickles can follow each other', () => {
    const data = bytes('K\x01.K\x02.');
    const first = unpickle(data, 0, options);
    expect(first).toEqual({ value: 1, end: 3 });
    expect(unpickle(data, first.end, options).value).toBe(2);
  });

  test('refuses globals that are not allowed, naming them and the allowed ones', () => {
    for (const [module, name] of [
      ['os', 'system'],
      ['posix', 'system'],
      ['builtins', 'eval'],
      ['__builtin__', 'exec'],
    ]) {
      const data = bytes(`c${module}\n${name}\nX\x02\x00\x00\x00ls\x85R.`);
      expect(() => run(data)).toThrowError(
        `test.pkl: names the global '${module}.${name}', which is not allowed (loading never runs code); allowed: test.pair (pickle byte 0)`,
      );
    }
    expect(() => run(bytes('\x8c\x02os\x8c\x06system\x93.'))).toThrowError(/global 'os\.system', which is not allowed/);
  });

  test('refuses the opcodes that build arbitrary objects, and unknown ones', () => {
    const cases: [Uint8Array, string][] = [
      [bytes('(U\x02lsios\nsystem\n.'), 'INST (0x69)'],
      [bytes('ctest\npair\n(o.'), 'OBJ (0x6f)'],
      [bytes('ctest\npair\n)\x81.'), 'NEWOBJ (0x81)'],
      [bytes('\x82\x01.'), 'EXT1 (0x82)'],
      [bytes('I1\n.'), 'INT (0x49)'],
    ];
    for (const [data, opcode] of cases) {
      expect(() => run(data)).toThrowError(
        new RegExp(`^test\\.pkl: uses pickle opcode ${opcode.replace(/[()]/g, '\\$&')}, which is not allowed`),
      );
    }
    expect(() => run(bytes('\xff'))).toThrowError('test.pkl: has unknown pickle opcode 0xff (pickle byte 0)');
  });

  test('refuses persistent references unless the caller resolves them', () => {
    expect(() => run(bytes('K\x01Q.'))).toThrowError(/persistent reference \(BINPERSID\)/);
    expect(run(bytes('K\x01Q.'), { ...options, persistentLoad: (id) => ({ id }) })).toEqual({ id: 1 });
  });

  test('reports truncated and malformed pickles with their position', () => {
    expect(() => run(bytes('X\x05\x00\x00\x00ab'))).toThrowError(
      'test.pkl: ends inside BINUNICODE, the pickle is cut short (file truncated?) (pickle byte 0)',
    );
    expect(() => run(bytes('K\x01'))).toThrowError(/cut short/);
    expect(() => run(bytes('K\x01K\x02t.'))).toThrowError(/needs a MARK that is not there/);
    expect(() => run(bytes('h\x03.'))).toThrowError(
      'test.pkl: reads memo slot 3, which was never written (malformed pickle) (pickle byte 0)',
    );
    expect(() => run(bytes('K\x01K\x02a.'))).toThrowError(/appends to a number, not a list/);
    expect(() => run(bytes(')K\x01K\x02s.'))).toThrowError(/sets an item of a tuple of 0, not a dict/);
    expect(() => run(bytes('K\x01)R.'))).toThrowError(/REDUCE calls a number, which is not callable/);
    expect(() => run(bytes(']}b.'))).toThrowError(/BUILD can only set the state of a dict, not of a list of 0/);
    expect(() => run(bytes('.'))).toThrowError(WeightFileError);
  });

  test('BUILD sets a dict state (how OrderedDict keeps _metadata)', () => {
    const value = run(bytes('}(U\x01aK\x01u}(U\x09_metadataK\x02ub.')) as PickleDict;
    expect([...value.entries]).toEqual([['a', 1]]);
    expect(Object.fromEntries((value.state as PickleDict).entries)).toEqual({ _metadata: 2 });
  });
});
