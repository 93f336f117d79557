import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import '../testing/harness';
import { TEST_BACKENDS, expectNoLeaks, useBackend } from '../testing/harness';
import { writeFileAtomic } from './node-files';
import { readSafetensors, writeSafetensors } from './safetensors';
import { detectWeightFormat, loadStateDict, saveSafetensors } from './state-dict';

const testdata = join(dirname(fileURLToPath(import.meta.url)), '../../../../testdata');
const officialPath = join(testdata, 'fixtures/pth/qs_ngf8_net_G.pth');
const extraPath = (name: string) => join(testdata, 'pth-extra', name);

describe.each(TEST_BACKENDS)('loadStateDict and saveSafetensors (%s)', (backend) => {
  let dir: string;
  beforeAll(async () => {
    await useBackend(backend);
    dir = mkdtempSync(join(tmpdir(), 'qsattn-io-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => vi.unstubAllGlobals());

  test('loads the official checkpoint from a path to the fixture state, bit for bit, leaking nothing', async () => {
    const fixture = readSafetensors(readFileSync(join(testdata, 'fixtures/pth/qs_ngf8_expected.safetensors'))).tensors;
    await expectNoLeaks(async () => {
      const tensors = await loadStateDict(officialPath);
      expect(Object.keys(tensors).length).toBe(52);
      for (const [name, t] of Object.entries(tensors)) {
        const want = fixture[`state.${name}`];
        expect(t.shape, name).toEqual(want.shape);
        expect(t.dtype).toBe('float32');
        expect(Buffer.from((t.dataSync() as Float32Array).buffer).equals(Buffer.from(want.data.buffer)), name).toBe(
          true,
        );
      }
      return tensors;
    });
  });

  test('detects each format from bytes, Uint8Array or ArrayBuffer alike', async () => {
    const pth = new Uint8Array(readFileSync(extraPath('legacy.pth')));
    const safetensors = new Uint8Array(readFileSync(extraPath('legacy.expected.safetensors')));
    expect(detectWeightFormat(pth)).toBe('pth');
    expect(detectWeightFormat(readFileSync(officialPath))).toBe('pth');
    expect(detectWeightFormat(safetensors)).toBe('safetensors');
    expect(detectWeightFormat(new TextEncoder().encode('<html>'))).toBeUndefined();
    const fromPth = await loadStateDict(pth.buffer.slice(pth.byteOffset, pth.byteOffset + pth.byteLength));
    const fromSafetensors = await loadStateDict(safetensors);
    expect(Object.keys(fromPth)).toEqual(Object.keys(fromSafetensors));
    for (const name of Object.keys(fromPth))
      expect(fromPth[name].arraySync()).toEqual(fromSafetensors[name].arraySync());
    expect(fromPth['1.num_batches_tracked'].dtype).toBe('int32');
    expect(fromPth['1.num_batches_tracked'].arraySync()).toBe(7);
    tf.dispose([fromPth, fromSafetensors]);
  });

  test('converts float16/bfloat16/float64 to float32, integers to int32, keeps bool', async () => {
    const t = await loadStateDict(extraPath('dtypes.pth'));
    const dtypes = Object.fromEntries(Object.entries(t).map(([name, x]) => [name, x.dtype]));
    expect(dtypes).toEqual({
      f16: 'float32',
      bf16: 'float32',
      f64: 'float32',
      i64: 'int32',
      i32: 'int32',
      i16: 'int32',
      i8: 'int32',
      u8: 'int32',
      bool: 'bool',
      f16_special: 'float32',
    });
    // f16, bf16 and f64 / 1000 are the same random values at three precisions.
    const [f16, bf16, f64] = [t.f16, t.bf16, t.f64].map((x) => Array.from(x.dataSync()));
    f64.forEach((v, i) => {
      expect(Math.abs(f16[i] - v / 1000)).toBeLessThan(2e-3 * Math.max(1, Math.abs(v / 1000)));
      expect(Math.abs(bf16[i] - v / 1000)).toBeLessThan(1e-2 * Math.max(1, Math.abs(v / 1000)));
    });
    expect(Array.from(t.f16_special.dataSync())).toEqual([Infinity, -Infinity, 2 ** -24, 65504, -0]);
    expect(t.i64.arraySync()).toEqual([
      [-(2 ** 31), 2 ** 31 - 1],
      [0, -5],
    ]);
    expect(t.u8.arraySync()).toEqual([0, 255]);
    expect(t.bool.arraySync()).toEqual([
      [1, 0],
      [0, 1],
    ]);
    tf.dispose(t);
  });

  test('an int64 beyond int32 is an error naming the file and tensor', async () => {
    const bytes = writeSafetensors({ steps: { dtype: 'I64', shape: [1], data: new BigInt64Array([2n ** 40n]) } });
    await expect(loadStateDict(bytes, { name: 'opt.safetensors' })).rejects.toThrowError(
      "opt.safetensors: tensor 'steps' holds the int64 value 1099511627776 at element 0, outside int32 (tfjs has no int64)",
    );
  });

  test('errors name the source and the formats', async () => {
    await expect(loadStateDict(new TextEncoder().encode('hello'), { name: 'notes.txt' })).rejects.toThrowError(
      'notes.txt: is in no format we read; supported: pth, safetensors (PyTorch checkpoints, safetensors)',
    );
    const onnx = { format: 'onnx' } as unknown as { format: 'pth' };
    await expect(loadStateDict(new Uint8Array(16), onnx)).rejects.toThrowError(
      "weight data: cannot be read as 'onnx'; formats: auto, pth, safetensors",
    );
    await expect(
      loadStateDict(readFileSync(officialPath), { format: 'safetensors', name: 'g.pth' }),
    ).rejects.toThrowError(/^g\.pth: declares a \d+-byte header/);
    await expect(loadStateDict(join(dir, 'missing.pth'))).rejects.toThrowError(/missing\.pth: cannot be read \(ENOENT/);
  });

  test('fetches http(s) URLs, and names the URL when the fetch fails', async () => {
    const bytes = readFileSync(extraPath('nested.pth'));
    const fetch = vi.fn(async (url: string) =>
      url.endsWith('ok.pth') ? new Response(bytes) : new Response('no', { status: 404, statusText: 'Not Found' }),
    );
    vi.stubGlobal('fetch', fetch);
    const t = await loadStateDict('https://example.org/ok.pth');
    expect(Object.keys(t)).toEqual(['state_dict.a.weight', 'state_dict.a.bias', 'history.0', 'model.b', 'model.param']);
    tf.dispose(t);
    await expect(loadStateDict('https://example.org/gone.pth')).rejects.toThrowError(
      'https://example.org/gone.pth: cannot be fetched (HTTP 404 Not Found)',
    );
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  test('saveSafetensors round-trips float32, int32 and bool tensors with metadata', async () => {
    const path = join(dir, `model-${backend}.safetensors`);
    const tensors = {
      w: tf.tensor([
        [1.5, -2],
        [0, 3],
      ]),
      n: tf.scalar(4, 'int32'),
      m: tf.tensor([true, false], [2], 'bool'),
    };
    await saveSafetensors(path, tensors, { epoch: '3' });
    expect(readSafetensors(readFileSync(path)).metadata).toEqual({ epoch: '3' });
    const back = await loadStateDict(path);
    for (const name of Object.keys(tensors)) {
      expect(back[name].dtype).toBe(tensors[name as keyof typeof tensors].dtype);
      expect(back[name].arraySync()).toEqual(tensors[name as keyof typeof tensors].arraySync());
    }
    tf.dispose([tensors, back]);
  });

  test('a failed save leaves the previous file intact and no temporary file behind', async () => {
    const path = join(dir, `keep-${backend}.safetensors`);
    const good = { w: tf.tensor([1, 2, 3]) };
    await saveSafetensors(path, good);
    const before = readFileSync(path);
    const text = { w: tf.tensor(['not a number']) };
    await expect(saveSafetensors(path, text)).rejects.toThrowError(/has dtype string/);
    expect(readFileSync(path).equals(before)).toBe(true);
    // A write that fails at the rename (the target is a directory) cleans up its temporary file.
    await expect(writeFileAtomic(dir, new Uint8Array([1]))).rejects.toThrowError(/cannot be written/);
    expect(
      readdirSync(dirname(dir)).filter((f) => f.includes('.tmp') && f.includes(dir.split('/').pop() as string)),
    ).toEqual([]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    tf.dispose([good, text]);
  });
});
