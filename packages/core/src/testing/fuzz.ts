// Test-only: property-based fuzzing of the readers of outside bytes (fast-check through @fast-check/vitest).
// The suite runs each property a few hundred times from a fixed seed; `npm run fuzz` reruns the same
// properties with QSATTN_FUZZ_RUNS cases each and collects what every property ran in QSATTN_FUZZ_REPORT.
// Other packages import this file by its path (it depends on nothing but fast-check and vitest).
import { appendFileSync } from 'node:fs';
import { fc, test } from '@fast-check/vitest';
import { afterAll, expect } from 'vitest';

/** Cases per property: QSATTN_FUZZ_RUNS when set (the long run), else the suite's `suiteRuns`. */
export function fuzzRuns(suiteRuns: number): number {
  const env = Number(process.env.QSATTN_FUZZ_RUNS);
  return Number.isInteger(env) && env > 0 ? env : suiteRuns;
}

/** The seed: QSATTN_FUZZ_SEED when set, else fixed, so that the suite always draws the same cases. */
export function fuzzSeed(): number {
  const env = Number(process.env.QSATTN_FUZZ_SEED);
  return Number.isInteger(env) ? env : 20_261_203;
}

/** A case slower than this counts as a hang. */
const CASE_LIMIT_MS = 5_000;

/**
 * A property over fuzzed inputs, run as one vitest test: `check` gets each case and throws (or fails an
 * expectation) when the reader misbehaved. The cases run are counted into QSATTN_FUZZ_REPORT (JSON lines).
 */
export function fuzzProperty<T>(
  reader: string,
  property: string,
  arbitrary: fc.Arbitrary<T>,
  check: (value: T) => Outcome | void | Promise<Outcome | void>,
  suiteRuns = 200,
): void {
  let cases = 0;
  let reads = 0;
  let failed = false;
  const numRuns = fuzzRuns(suiteRuns);
  test.prop([arbitrary], { numRuns, seed: fuzzSeed(), endOnFailure: true })(`${reader}: ${property}`, async (value) => {
    cases++;
    const start = performance.now();
    try {
      if ((await check(value)) === 'read') reads++;
    } catch (e) {
      failed = true;
      throw e;
    }
    const ms = performance.now() - start;
    if (ms > CASE_LIMIT_MS) {
      failed = true;
      throw new Error(`a case took ${ms.toFixed(0)} ms (limit ${CASE_LIMIT_MS} ms): a hang or a quadratic path`);
    }
  });
  afterAll(() => {
    const report = process.env.QSATTN_FUZZ_REPORT;
    if (report) appendFileSync(report, `${JSON.stringify({ reader, property, cases, reads, failed })}\n`);
  });
}

type ErrorClass = abstract new (...args: never[]) => Error;

/** How a case ended: a correct read, or refused with our typed error. */
export type Outcome = 'read' | 'refused';

/**
 * Asserts the outcome every reader owes any input: either it returns (and `checkResult` judges the value), or
 * it throws an `errorClass` error whose message is one line starting with `source` — never another exception.
 */
export async function expectReadOrTypedError<R>(
  read: () => R | Promise<R>,
  errorClass: ErrorClass | readonly ErrorClass[],
  source: string | RegExp,
  checkResult: (result: R) => void = () => undefined,
): Promise<Outcome> {
  let result: R;
  try {
    result = await read();
  } catch (e) {
    const classes = Array.isArray(errorClass) ? errorClass : [errorClass as ErrorClass];
    if (!classes.some((c) => e instanceof c)) {
      throw new Error(`expected a ${classes.map((c) => c.name).join(' or ')}, got ${(e as Error)?.name}: ${(e as Error)?.message}\n${(e as Error)?.stack}`);
    }
    const message = (e as Error).message;
    expect(message).not.toContain('\n');
    if (typeof source === 'string') expect(message.startsWith(source), message).toBe(true);
    else expect(message).toMatch(source);
    return 'refused';
  }
  checkResult(result);
  return 'read';
}

/** Values that make good lies in a size, length, offset or count field. */
const INTERESTING_U32 = [0, 1, 2, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

/**
 * Where in [0, 1) of the file a mutation lands, mapped to a byte offset of whatever file it applies to:
 * uniform half of the time, else with fast-check's bias towards the ends (headers and trailers).
 */
// Not fc.double: it draws uniformly among representable doubles, nearly all of which are tiny.
const uniform = fc.noBias(fc.integer({ min: 0, max: 2 ** 30 - 1 })).map((n) => n / 2 ** 30);
const nearEnds = fc.integer({ min: 0, max: 2 ** 30 - 1 }).chain((n) => fc.constantFrom(n / 2 ** 30, 1 - (n + 1) / 2 ** 30));
export const position = fc.oneof(uniform, nearEnds);

/** One mutation: truncation, flipped or replaced bytes, lying u32/u64 fields, inserted, deleted or repeated ranges. */
export function mutationArbitrary(): fc.Arbitrary<(bytes: Uint8Array) => Uint8Array> {
  const at = (p: number, length: number) => Math.min(length, Math.floor(p * (length + 1)));
  return fc.oneof(
    position.map((p) => (b: Uint8Array) => b.subarray(0, at(p, b.length))),
    fc.tuple(position, fc.integer({ min: 0, max: 7 })).map(([p, bit]) => (b: Uint8Array) => edit(b, (c) => {
      const i = Math.min(c.length - 1, at(p, c.length));
      if (i >= 0) c[i] ^= 1 << bit;
    })),
    fc.tuple(position, fc.integer({ min: 0, max: 255 })).map(([p, v]) => (b: Uint8Array) => edit(b, (c) => {
      const i = Math.min(c.length - 1, at(p, c.length));
      if (i >= 0) c[i] = v;
    })),
    fc.tuple(position, fc.oneof(fc.constantFrom(...INTERESTING_U32), fc.nat())).map(([p, v]) => (b: Uint8Array) => edit(b, (c) => {
      const i = at(p, c.length);
      if (i + 4 <= c.length) new DataView(c.buffer, c.byteOffset).setUint32(i, v >>> 0, true);
    })),
    fc.tuple(position, fc.oneof(fc.constantFrom(0n, 1n, 2n ** 31n, 2n ** 32n, 10n ** 12n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }))).map(
      ([p, v]) => (b: Uint8Array) => edit(b, (c) => {
        const i = at(p, c.length);
        if (i + 8 <= c.length) new DataView(c.buffer, c.byteOffset).setBigUint64(i, v, true);
      }),
    ),
    fc.tuple(position, fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([p, bytes]) => (b: Uint8Array) => {
      const i = at(p, b.length);
      return concat(b.subarray(0, i), bytes, b.subarray(i));
    }),
    fc.tuple(position, fc.integer({ min: 1, max: 64 })).map(([p, n]) => (b: Uint8Array) => {
      const i = at(p, b.length);
      return concat(b.subarray(0, i), b.subarray(Math.min(b.length, i + n)));
    }),
    fc.tuple(position, fc.integer({ min: 1, max: 256 }), position).map(([p, n, q]) => (b: Uint8Array) => {
      const from = at(p, b.length);
      const to = at(q, b.length);
      return concat(b.subarray(0, to), b.subarray(from, Math.min(b.length, from + n)), b.subarray(to));
    }),
  );
}

/** A seed file with one to four mutations applied (a fresh copy: the seed is never changed). */
export function mutatedBytes(seeds: readonly Uint8Array[], maxMutations = 4): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(fc.constantFrom(...seeds), fc.array(mutationArbitrary(), { minLength: 1, maxLength: maxMutations }))
    .map(([seed, mutations]) => mutations.reduce<Uint8Array>((bytes, mutate) => mutate(bytes), new Uint8Array(seed)));
}

function edit(bytes: Uint8Array, change: (copy: Uint8Array) => void): Uint8Array {
  const copy = new Uint8Array(bytes);
  change(copy);
  return copy;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Values that make good lies where a JSON file expects something else. */
const jsonLie: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(null, true, false, 0, -1, 1.5, 1e12, -1e12, 2 ** 53, 1e308, '', 'x', '__proto__', [], {}, [1e12], [-1], ['a']),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
);

/** Every path (list of keys) in a JSON value, the root included. */
function jsonPaths(value: Json, path: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(path);
  if (Array.isArray(value)) value.forEach((v, i) => jsonPaths(v, [...path, i], out));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) jsonPaths(v, [...path, k], out);
  return out;
}

/**
 * A JSON value with one to four changes: a value replaced by another of any type (or a lie: huge or negative
 * numbers, empty strings, '__proto__'), a key deleted, or an array element dropped.
 */
export function mutatedJson(seed: unknown, maxMutations = 4): fc.Arbitrary<unknown> {
  const mutation = fc.tuple(uniform, fc.constantFrom('replace', 'delete'), jsonLie);
  return fc.array(mutation, { minLength: 1, maxLength: maxMutations }).map((mutations) => {
    let value = structuredClone(seed) as Json;
    for (const [p, kind, lie] of mutations) {
      const paths = jsonPaths(value);
      const path = paths[Math.floor(p * paths.length)];
      if (path.length === 0) {
        value = lie;
        continue;
      }
      let parent = value as Record<string | number, Json>;
      for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, Json>;
      const last = path[path.length - 1];
      if (kind === 'delete') {
        if (Array.isArray(parent)) parent.splice(last as number, 1);
        else delete parent[last];
      } else {
        Object.defineProperty(parent, last, { value: structuredClone(lie), enumerable: true, writable: true, configurable: true });
      }
    }
    return value;
  });
}

/** Text as a JSON file holds it, possibly cut short, with a flipped byte, or not JSON at all. */
export function mutatedJsonText(seed: unknown): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: mutatedJson(seed).map((v) => JSON.stringify(v) ?? 'undefined') },
    { weight: 2, arbitrary: mutatedBytes([new TextEncoder().encode(JSON.stringify(seed))]).map((b) => new TextDecoder().decode(b)) },
    { weight: 1, arbitrary: fc.string() },
  );
}
