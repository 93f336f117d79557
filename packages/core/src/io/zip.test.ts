import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { readZip } from './zip';

const extra = (name: string) =>
  new Uint8Array(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../../../testdata/pth-extra', name)));

/** Offset of the central directory, from the end record (these files have no comment). */
function centralDirectory(bytes: Uint8Array): number {
  return new DataView(bytes.buffer).getUint32(bytes.length - 22 + 16, true);
}

describe('zip reader', () => {
  test('reads STORED and DEFLATE entries to the same bytes', () => {
    const stored = readZip(extra('dtypes.pth'), 'dtypes.pth');
    const deflated = readZip(extra('deflate.pth'), 'deflate.pth');
    expect([...deflated.entries.keys()]).toEqual([...stored.entries.keys()]);
    expect([...deflated.entries.values()].some((e) => e.method === 8)).toBe(true);
    for (const name of stored.entries.keys()) expect(deflated.read(name)).toEqual(stored.read(name));
  });

  test('reads zip64 end records (PyTorch writes them) and central directory extras', () => {
    const bytes = extra('zip64.pth');
    const archive = readZip(bytes, 'zip64.pth');
    expect(archive.complete).toBe(true);
    expect(archive.read('views/version')).toEqual(new TextEncoder().encode('3\n'));
    expect(archive.entries.get('views/data/1')?.localHeaderOffset).toBeGreaterThan(0);
  });

  test('recovers the entries of a file cut before its central directory, marking it incomplete', () => {
    const bytes = extra('dtypes.pth');
    const whole = readZip(bytes, 'dtypes.pth');
    const cut = readZip(bytes.subarray(0, centralDirectory(bytes)), 'dtypes.pth');
    expect(cut.complete).toBe(false);
    expect([...cut.entries.keys()]).toEqual([...whole.entries.keys()]);
    for (const name of whole.entries.keys()) expect(cut.read(name)).toEqual(whole.read(name));
    const entry = whole.entries.get('dtypes/data/3');
    if (entry === undefined) throw new Error('fixture changed: no dtypes/data/3');
    const header = new DataView(bytes.buffer, entry.localHeaderOffset);
    const dataStart = entry.localHeaderOffset + 30 + header.getUint16(26, true) + header.getUint16(28, true);
    const inside = readZip(bytes.subarray(0, dataStart + 10), 'dtypes.pth');
    expect(inside.entries.get('dtypes/data/3')?.cutShort).toBe(true);
    expect(inside.read('dtypes/data/3')).toEqual(whole.read('dtypes/data/3').subarray(0, 10));
  });

  test('corrupted central directories are reported with the file name', () => {
    const bytes = extra('dtypes.pth');
    const directory = centralDirectory(bytes);
    const badSignature = new Uint8Array(bytes);
    badSignature[directory] = 0;
    expect(() => readZip(badSignature, 'a.pth')).toThrowError(
      'a.pth: has no central directory entry 0 at byte ' + directory + ' (corrupted zip?)',
    );
    // deflate.pth comes from Python's writer, which (unlike PyTorch's) writes no zip64 end records.
    const badOffset = extra('deflate.pth');
    new DataView(badOffset.buffer).setUint32(badOffset.length - 22 + 16, badOffset.length, true);
    expect(() => readZip(badOffset, 'a.pth')).toThrowError(
      /^a\.pth: has a central directory \(bytes \d+\.\.\d+\) overrunning its end record/,
    );
    const badLocal = new Uint8Array(bytes);
    new DataView(badLocal.buffer).setUint32(directory + 42, 7, true); // entry 0's local header offset
    expect(() => readZip(badLocal, 'a.pth')).toThrowError(
      "a.pth: zip entry 'dtypes/data.pkl' has no local header at byte 7 (corrupted zip?)",
    );
  });

  test('names unsupported compression methods and missing entries', () => {
    const bytes = extra('dtypes.pth');
    const bzip2 = new Uint8Array(bytes);
    new DataView(bzip2.buffer).setUint16(centralDirectory(bytes) + 10, 12, true);
    const archive = readZip(bzip2, 'a.pth');
    expect(() => archive.read('dtypes/data.pkl')).toThrowError(
      "a.pth: zip entry 'dtypes/data.pkl' uses compression method 12; supported: 0 (STORED), 8 (DEFLATE)",
    );
    expect(() => archive.read('nope')).toThrowError("a.pth: has no zip entry 'nope'");
  });

  test('refuses bytes that are no zip at all', () => {
    expect(() => readZip(new Uint8Array(100), 'x.bin')).toThrowError(/^x\.bin: is not a zip archive/);
  });
});
