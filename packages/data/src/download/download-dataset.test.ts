import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { startTestServer, type TestServer } from '../testing/http-server';
import { datasetZip, makeZip } from '../testing/zips';
import { DATASET_CATALOG, datasetUrl, findDataset } from './catalog';
import { downloadDataset, readDownloadRecords, type DownloadDatasetOptions } from './download-dataset';
import { DownloadError } from './errors';

let server: TestServer;
let root: string;
let out: string;
let records: string;
let n = 0;
beforeAll(async () => {
  server = await startTestServer();
  root = await mkdtemp(join(tmpdir(), 'qsattn-dataset-'));
});
beforeEach(async () => {
  out = join(root, `case${n}`, 'datasets');
  records = join(root, `case${n++}`, 'cache', 'downloads.json');
  server.files.clear();
  server.log.length = 0;
});
afterAll(async () => {
  await server.close();
  await rm(root, { recursive: true, force: true });
});

const opts = (extra: Partial<DownloadDatasetOptions> = {}): DownloadDatasetOptions => ({ outDir: out, url: server.url, recordsPath: records, retryDelayMs: 1, ...extra });

async function failure(promise: Promise<unknown>): Promise<DownloadError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DownloadError);
  expect((err as Error).message).not.toContain('\n');
  return err as DownloadError;
}

describe('downloadDataset', () => {
  test('horse2zebra: fetches NAME.zip from the mirror, lays out OUT/horse2zebra/{trainA,trainB,testA,testB}, records the sha256 and removes the zip', async () => {
    server.files.set('/horse2zebra.zip', { body: datasetZip('horse2zebra', { trainA: 4, trainB: 3, testA: 2, testB: 2 }, { 'horse2zebra/trainA/.DS_Store': 'x', '__MACOSX/horse2zebra/._a': 'x' }) });
    const result = await downloadDataset('horse2zebra', opts());
    expect(result.path).toBe(join(out, 'horse2zebra'));
    expect(result.counts).toEqual({ trainA: 4, trainB: 3, testA: 2, testB: 2 });
    expect((await readdir(result.path)).sort()).toEqual(['testA', 'testB', 'trainA', 'trainB']);
    expect((await readdir(join(result.path, 'trainA'))).sort()).toEqual(['n0_trainA.jpg', 'n1_trainA.jpg', 'n2_trainA.jpg', 'n3_trainA.jpg']);
    expect(await readdir(out)).toEqual(['horse2zebra']);
    expect(result.zip).toMatchObject({ check: 'recorded', kept: false, source: `${server.url}/horse2zebra.zip` });
    const recorded = await readDownloadRecords(records);
    expect(recorded['horse2zebra.zip']).toMatchObject({ sha256: result.zip.sha256, bytes: result.zip.bytes, url: `${server.url}/horse2zebra.zip` });
  });

  test('a later download is verified against the record; a changed file is refused and the existing folder kept', async () => {
    server.files.set('/facades.zip', { body: datasetZip('facades') });
    await downloadDataset('facades', opts());
    const again = await downloadDataset('facades', opts({ force: true }));
    expect(again.zip.check).toBe('verified');
    server.files.set('/facades.zip', { body: datasetZip('facades', { trainA: 5 }) });
    const err = await failure(downloadDataset('facades', opts({ force: true })));
    expect(['checksum-mismatch', 'size-mismatch']).toContain(err.code);
    expect(err.message).toContain('differs from the copy first downloaded on');
    expect(err.message).toContain(records);
    expect((await readdir(join(out, 'facades', 'trainA'))).length).toBe(3);
    expect(await readdir(out)).toEqual(['facades']);
  });

  test('an interrupted transfer is resumed; --keep-zip keeps the zip', async () => {
    const body = datasetZip('maps', { trainA: 40, trainB: 40 });
    server.files.set('/maps.zip', { body, dropAfter: Math.floor(body.length / 3) });
    const result = await downloadDataset('maps', opts({ keepZip: true }));
    expect(result.zip).toMatchObject({ resumed: true, kept: true, bytes: body.length });
    expect(server.log.map((l) => l.range !== undefined)).toEqual([false, true]);
    expect(Buffer.compare(await readFile(join(out, 'maps.zip')), body)).toBe(0);
  });

  test('a temporary folder left by a killed extraction is removed by the next run', async () => {
    await mkdir(join(out, '.facades.extracting-0badf00d', 'trainA'), { recursive: true });
    server.files.set('/facades.zip', { body: datasetZip('facades') });
    await downloadDataset('facades', opts());
    expect(await readdir(out)).toEqual(['facades']);
  });

  test('an existing OUT/NAME is not touched (and nothing fetched) without --force', async () => {
    await mkdir(join(out, 'horse2zebra'), { recursive: true });
    await writeFile(join(out, 'horse2zebra', 'mine.txt'), 'keep');
    const err = await failure(downloadDataset('horse2zebra', opts()));
    expect(err.code).toBe('exists');
    expect(err.message).toBe(`${join(out, 'horse2zebra')}: already exists: remove it or pass --force to replace it (or choose another --out)`);
    expect(server.log).toHaveLength(0);
    expect(await readdir(join(out, 'horse2zebra'))).toEqual(['mine.txt']);
  });

  test('a zip that is not a dataset: one line naming what it holds, nothing left in OUT, nothing recorded', async () => {
    server.files.set('/apple2orange.zip', { body: makeZip({ 'photos/a.jpg': 'x', 'README.txt': 'hi' }) });
    const err = await failure(downloadDataset('apple2orange', opts()));
    expect(err.code).toBe('not-a-dataset');
    expect(err.message).toMatch(/is not an unpaired dataset: it has no trainA\/ and trainB\/ folders \(it holds: photos\/, README\.txt\)/);
    expect(await readdir(out)).toEqual([]);
    expect(await readDownloadRecords(records)).toEqual({});
    server.files.set('/apple2orange.zip', { body: makeZip({ 'x/trainA/notes.txt': 'x', 'x/trainB/b.jpg': 'y' }) });
    expect((await failure(downloadDataset('apple2orange', opts()))).message).toContain('has no images (.png, .jpg, .jpeg, .webp) in x/trainA/');
  });

  test.each([
    ['zip-slip', { 'monet2photo/trainA/a.jpg': 'x', 'monet2photo/trainB/b.jpg': 'y', 'monet2photo/../../escape.jpg': 'evil' }, 'unsafe-archive'],
    ['link', { 'monet2photo/trainA/a.jpg': 'x', 'monet2photo/trainB/b.jpg': { data: '/etc/passwd', link: true } }, 'unsafe-archive'],
  ] as const)('a hostile archive (%s) is refused with nothing written outside or inside OUT', async (_label, spec, code) => {
    server.files.set('/monet2photo.zip', { body: makeZip(spec) });
    const err = await failure(downloadDataset('monet2photo', opts()));
    expect(err.code).toBe(code);
    expect(await readdir(out)).toEqual([]);
    expect((await readdir(join(out, '..'))).sort()).toEqual(['datasets']);
  });

  test('a compression bomb is refused with nothing written', async () => {
    server.files.set('/vangogh2photo.zip', { body: makeZip({ 'v/trainA/a.jpg': 'x', 'v/trainB/b.jpg': new Uint8Array(80 * 1024 * 1024) }, 9) });
    const err = await failure(downloadDataset('vangogh2photo', opts()));
    expect(err.code).toBe('archive-too-large');
    expect(await readdir(out)).toEqual([]);
  });

  test('404: one line; for cityscapes it points at the manual steps', async () => {
    const err = await failure(downloadDataset('summer2winter_yosemite', opts()));
    expect(err.message).toBe(`${server.url}/summer2winter_yosemite.zip: the server answered 404 Not Found: check the name and the address, or point --url at a mirror`);
    expect((await failure(downloadDataset('cityscapes', opts()))).message).toContain('qsattn datasets download cityscapes_full');
    expect(await readdir(out)).toEqual([]);
  });

  test('cat2dog from a local afhq.zip: train/cat, train/dog, val/cat, val/dog become trainA, trainB, testA, testB', async () => {
    const zipPath = join(root, 'afhq.zip');
    await writeFile(
      zipPath,
      makeZip({ 'afhq/train/cat/c1.png': 'c', 'afhq/train/cat/c2.png': 'c', 'afhq/train/dog/d1.png': 'd', 'afhq/train/wild/w.png': 'w', 'afhq/val/cat/c3.png': 'c', 'afhq/val/dog/d2.png': 'd' }),
    );
    const result = await downloadDataset('cat2dog', { outDir: out, file: zipPath, recordsPath: records });
    expect(result.counts).toEqual({ trainA: 2, trainB: 1, testA: 1, testB: 1 });
    expect((await readdir(result.path)).sort()).toEqual(['testA', 'testB', 'trainA', 'trainB']);
    expect(await readdir(join(result.path, 'testB'))).toEqual(['d2.png']);
    expect(result.zip).toMatchObject({ source: 'file', kept: true });
    expect((await readdir(root)).includes('afhq.zip')).toBe(true);
  });

  test('manual datasets say what to do; unknown names list the known ones', async () => {
    const err = await failure(downloadDataset('cityscapes_full', { outDir: '/data' }));
    expect(err.message).toContain('gtFine_trainvaltest.zip and leftImg8bit_trainvaltest.zip');
    expect(err.message).toContain('--output_dir /data/cityscapes');
    expect((await failure(downloadDataset('cat2dog', { outDir: '/data' }))).message).toContain('qsattn datasets download cat2dog --file afhq.zip --out /data');
    expect((await failure(downloadDataset('horses', { outDir: out }))).message).toMatch(/^horses: is not a dataset we know: choose one of horse2zebra, cityscapes, .*\(qsattn datasets list\)$/);
  });

  test('catalog: the official scripts’ names and URLs', () => {
    expect(datasetUrl('horse2zebra')).toBe('http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/horse2zebra.zip');
    expect(datasetUrl('horse2zebra', 'https://mirror.example/cyclegan/')).toBe('https://mirror.example/cyclegan/horse2zebra.zip');
    expect(datasetUrl('horse2zebra', 'https://mirror.example/h2z.zip')).toBe('https://mirror.example/h2z.zip');
    for (const name of ['apple2orange', 'summer2winter_yosemite', 'horse2zebra', 'monet2photo', 'cezanne2photo', 'ukiyoe2photo', 'vangogh2photo', 'maps', 'cityscapes', 'facades', 'iphone2dslr_flower', 'grumpifycat']) {
      expect(findDataset(name)?.kind).toBe('download');
    }
    expect(new Set(DATASET_CATALOG.map((d) => d.name)).size).toBe(DATASET_CATALOG.length);
  });
});
