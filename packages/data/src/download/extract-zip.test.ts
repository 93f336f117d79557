import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, test } from 'vitest';
import { datasetZip, forgeSize, makeZip } from '../testing/zips';
import { DownloadError } from './errors';
import { extractZip, formatBytes, listZip, safeEntryPath } from './extract-zip';

let root: string;
let work: string;
let n = 0;
beforeEach(async () => {
  root ??= await mkdtemp(join(tmpdir(), 'qsattn-extract-'));
  work = join(root, `case${n++}`);
  await mkdir(join(work, 'out'), { recursive: true });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function zipFile(bytes: Uint8Array): Promise<string> {
  const path = join(work, 'archive.zip');
  await writeFile(path, bytes);
  return path;
}

/** Extracts, expects a one-line DownloadError, and checks that nothing at all was written under out/ or beside it. */
async function refused(bytes: Uint8Array, options: Parameters<typeof extractZip>[2] = {}): Promise<DownloadError> {
  const zip = await zipFile(bytes);
  const err = await extractZip(zip, join(work, 'out', 'ds'), options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DownloadError);
  expect((err as Error).message).not.toContain('\n');
  expect(await readdir(join(work, 'out'))).toEqual([]);
  expect((await readdir(work)).sort()).toEqual(['archive.zip', 'out']);
  return err as DownloadError;
}

describe('extractZip', () => {
  test('extracts files and folders, then renames the folder into place', async () => {
    const zip = await zipFile(datasetZip('h2z'));
    const progress: number[] = [];
    const result = await extractZip(zip, join(work, 'out', 'ds'), { onProgress: (p) => progress.push(p.entries) });
    expect(result.files).toBe(8);
    expect((await readdir(join(work, 'out', 'ds', 'h2z', 'trainA'))).sort()).toEqual(['n0_trainA.jpg', 'n1_trainA.jpg', 'n2_trainA.jpg']);
    expect(await readdir(join(work, 'out'))).toEqual(['ds']);
    expect(progress.at(-1)).toBe(progress.length);
  });

  test('plan maps and skips entries', async () => {
    const zip = await zipFile(makeZip({ 'top/a.txt': 'a', 'top/b.txt': 'b', 'junk.txt': 'x' }));
    const result = await extractZip(zip, join(work, 'out', 'ds'), { plan: () => (p) => (p.startsWith('top/') ? p.slice(4) : undefined) });
    expect(result.skipped).toBe(1);
    expect((await readdir(join(work, 'out', 'ds'))).sort()).toEqual(['a.txt', 'b.txt']);
  });

  test.each([
    ['../evil.txt', "points outside the folder ('..')"],
    ['ds/../../evil.txt', "points outside the folder ('..')"],
    ['/etc/evil.txt', 'is an absolute path'],
    ['C:/evil.txt', 'is an absolute path'],
  ])('zip-slip: the entry %s is refused before anything is written', async (name, why) => {
    const err = await refused(makeZip({ 'ok.txt': 'fine', [name]: 'evil' }));
    expect(err.code).toBe('unsafe-archive');
    expect(err.message).toContain(why);
    expect(err.message).toContain('nothing was extracted');
  });

  test('a backslash path that climbs out is refused', async () => {
    expect((await refused(makeZip({ 'a\\..\\..\\evil.txt': 'x' }))).code).toBe('unsafe-archive');
  });

  test('symbolic links are refused, whether they point in or out', async () => {
    expect((await refused(makeZip({ 'ds/trainA/a.jpg': 'x', 'ds/link': { data: '/etc/passwd', link: true } }))).message).toContain("holds the symbolic link 'ds/link'");
    expect((await refused(makeZip({ 'ds/link': { data: 'trainA', link: true } }))).code).toBe('unsafe-archive');
  });

  test('a plan that maps outside the folder is refused too', async () => {
    expect((await refused(makeZip({ 'a.txt': 'a' }), { plan: () => () => '../a.txt' })).code).toBe('unsafe-archive');
  });

  test('compression bomb: an archive that expands too far is refused before writing', async () => {
    const zeros = new Uint8Array(80 * 1024 * 1024);
    const err = await refused(makeZip({ 'zeros.bin': zeros }, 9));
    expect(err.code).toBe('archive-too-large');
    expect(err.message).toMatch(/expands \d+-fold .* more than the limit of 100: refused as a possible zip bomb/);
  });

  test('a total over maxBytes, or too many entries, is refused', async () => {
    expect((await refused(makeZip({ 'a.bin': new Uint8Array(5000) }), { limits: { maxBytes: 4096 } })).message).toContain('expands to more than 4.0 KiB');
    expect((await refused(makeZip({ a: 'a', b: 'b', c: 'c' }), { limits: { maxEntries: 2 } })).message).toContain('has 3 entries, more than the limit of 2');
  });

  test('a header that declares a huge size is refused; one that understates the size stops the extraction and leaves nothing', async () => {
    const zip = makeZip({ 'big.bin': new Uint8Array(1000).fill(7), 'other.txt': 'x' }, 9);
    expect((await refused(forgeSize(zip, 'big.bin', 0xfffffff0))).code).toBe('archive-too-large');
    const err = await refused(forgeSize(zip, 'big.bin', 10));
    expect(['archive-too-large', 'bad-archive']).toContain(err.code);
    expect(err.message).toContain("'big.bin'");
  });

  test('damaged data fails its CRC check and leaves nothing', async () => {
    const data = new TextEncoder().encode('the quick brown fox '.repeat(50));
    const zip = makeZip({ 'a.txt': data }, 0);
    const at = Buffer.from(zip).indexOf(Buffer.from('quick'));
    zip[at] ^= 0xff;
    expect((await refused(zip)).message).toContain('fails its CRC-32 check');
  });

  test('a file that is not a zip, or is cut short, is one line', async () => {
    expect((await refused(new TextEncoder().encode('<html>not found</html>'))).message).toMatch(/is not a readable zip file .*download it again$/);
    const whole = datasetZip('h2z');
    expect((await refused(whole.subarray(0, whole.length - 30))).code).toBe('bad-archive');
  });

  test('an existing destination is kept unless replace is given; replace swaps in the new folder', async () => {
    const zip = await zipFile(makeZip({ 'new.txt': 'new' }));
    const dest = join(work, 'out', 'ds');
    await mkdir(dest);
    await writeFile(join(dest, 'old.txt'), 'old');
    const err = await extractZip(zip, dest).catch((e: unknown) => e as DownloadError);
    expect(err).toMatchObject({ code: 'exists' });
    expect(await readdir(dest)).toEqual(['old.txt']);
    await extractZip(zip, dest, { replace: true });
    expect(await readdir(dest)).toEqual(['new.txt']);
    expect(await readFile(join(dest, 'new.txt'), 'utf8')).toBe('new');
    expect(await readdir(join(work, 'out'))).toEqual(['ds']);
  });

  test('listZip and safeEntryPath', async () => {
    const zip = await zipFile(makeZip({ 'd/': '', 'd/a.txt': 'abc' }));
    expect(await listZip(zip)).toEqual([
      { path: 'd', directory: true, size: 0 },
      { path: 'd/a.txt', directory: false, size: 3 },
    ]);
    expect(safeEntryPath('z', './a//b/./c')).toBe('a/b/c');
    expect(() => safeEntryPath('z', 'a\0b')).toThrow(/NUL/);
    expect(formatBytes(116_867_962)).toBe('111.5 MiB');
    expect(formatBytes(512)).toBe('512 B');
  });
});
