import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { startTestProxy, startTestServer, type TestServer } from '../testing/http-server';
import { download, partialPath, type DownloadProgress } from './download';
import { DownloadError, writeError } from './errors';

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const body = randomBytes(300_000);

let server: TestServer;
let dir: string;
beforeAll(async () => {
  server = await startTestServer();
  dir = await mkdtemp(join(tmpdir(), 'qsattn-download-'));
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  server.files.clear();
  server.redirects.clear();
  server.log.length = 0;
});

async function failure(promise: Promise<unknown>): Promise<DownloadError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DownloadError);
  expect((err as Error).message).not.toContain('\n');
  return err as DownloadError;
}

describe('download', () => {
  test('streams the file, reports progress, returns its sha256 and leaves no part file', async () => {
    server.files.set('/a.bin', { body });
    const dest = join(dir, 'a.bin');
    const progress: DownloadProgress[] = [];
    const result = await download(`${server.url}/a.bin`, dest, { onProgress: (p) => progress.push(p) });
    expect(result).toMatchObject({ path: dest, bytes: body.length, sha256: sha(body), reused: false, resumed: false });
    expect(Buffer.compare(await readFile(dest), body)).toBe(0);
    await expect(stat(partialPath(dest))).rejects.toThrow();
    expect(progress.at(-1)).toMatchObject({ received: body.length, total: body.length, resumedFrom: 0 });
    expect(progress.every((p, i) => i === 0 || p.received >= progress[i - 1].received)).toBe(true);
  });

  test('an interrupted transfer is resumed with a Range request and the result is whole', async () => {
    server.files.set('/cut.bin', { body, dropAfter: 100_000 });
    const dest = join(dir, 'cut.bin');
    const retries: string[] = [];
    const result = await download(`${server.url}/cut.bin`, dest, { sha256: sha(body), retryDelayMs: 1, onRetry: (r) => retries.push(r.reason) });
    expect(result).toMatchObject({ bytes: body.length, sha256: sha(body), resumed: true });
    expect(Buffer.compare(await readFile(dest), body)).toBe(0);
    expect(retries).toHaveLength(1);
    const ranges = server.log.filter((l) => l.path === '/cut.bin').map((l) => l.range);
    expect(ranges[0]).toBeUndefined();
    // The bytes that reached the file before the break are kept (undici drops the ones still buffered in the
    // body stream when the socket fails): the retry asks for the rest.
    expect(ranges[1]).toMatch(/^bytes=\d+-$/);
    const from = Number(/\d+/.exec(ranges[1]!)![0]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(100_000);
  });

  test('a server that closes the connection right after a large body (HTTP/1.0 style) is read to the end', async () => {
    // undici 7 crashes the process when the socket ends while the body is paused by backpressure (nodejs/undici#5360).
    const large = randomBytes(24 * 1024 * 1024);
    server.files.set('/close.bin', { body: large, close: true });
    const dest = join(dir, 'close.bin');
    const result = await download(`${server.url}/close.bin`, dest);
    expect(result.sha256).toBe(sha(large));
    await rm(dest);
  });

  test('a part file left by an earlier run is continued, not fetched again', async () => {
    server.files.set('/left.bin', { body });
    const dest = join(dir, 'left.bin');
    await writeFile(partialPath(dest), body.subarray(0, 123_456));
    const result = await download(`${server.url}/left.bin`, dest, { size: body.length });
    expect(result.resumed).toBe(true);
    expect(server.log.map((l) => l.range)).toEqual(['bytes=123456-']);
    expect(Buffer.compare(await readFile(dest), body)).toBe(0);
  });

  test('a server that ignores Range gets the file from the start', async () => {
    server.files.set('/norange.bin', { body, ignoreRange: true });
    const dest = join(dir, 'norange.bin');
    await writeFile(partialPath(dest), body.subarray(0, 5000));
    await download(`${server.url}/norange.bin`, dest);
    expect(Buffer.compare(await readFile(dest), body)).toBe(0);
  });

  test('a stale part file (another version of the file) is dropped after the checksum fails, and fetched whole', async () => {
    server.files.set('/stale.bin', { body });
    const dest = join(dir, 'stale.bin');
    await writeFile(partialPath(dest), randomBytes(1000));
    const result = await download(`${server.url}/stale.bin`, dest, { sha256: sha(body) });
    expect(result.sha256).toBe(sha(body));
    expect(server.log.map((l) => l.range)).toEqual(['bytes=1000-', undefined]);
  });

  test('503 answers are retried; follows redirects', async () => {
    server.files.set('/busy.bin', { body, failTimes: 2 });
    server.redirects.set('/old.bin', '/busy.bin');
    const dest = join(dir, 'busy.bin');
    const result = await download(`${server.url}/old.bin`, dest, { retryDelayMs: 1 });
    expect(result.url).toBe(`${server.url}/busy.bin`);
    expect(result.bytes).toBe(body.length);
  });

  test('an existing file with the expected sha256 is reused; one that differs is replaced', async () => {
    server.files.set('/cached.bin', { body });
    const dest = join(dir, 'cached.bin');
    await writeFile(dest, body);
    expect((await download(`${server.url}/cached.bin`, dest, { sha256: sha(body) })).reused).toBe(true);
    expect(server.log).toHaveLength(0);
    await writeFile(dest, 'something else');
    expect((await download(`${server.url}/cached.bin`, dest, { sha256: sha(body) })).reused).toBe(false);
    expect(Buffer.compare(await readFile(dest), body)).toBe(0);
  });

  test('a wrong sha256 fails in one line and deletes the bad file; a wrong size too', async () => {
    server.files.set('/bad.bin', { body });
    const dest = join(dir, 'bad.bin');
    const err = await failure(download(`${server.url}/bad.bin`, dest, { sha256: '0'.repeat(64) }));
    expect(err.code).toBe('checksum-mismatch');
    expect(err.message).toContain(sha(body));
    await expect(stat(dest)).rejects.toThrow();
    await expect(stat(partialPath(dest))).rejects.toThrow();
    expect((await failure(download(`${server.url}/bad.bin`, dest, { size: 10 }))).code).toBe('size-mismatch');
  });

  test('404 is one line naming the address, with no retry and nothing written', async () => {
    const dest = join(dir, 'missing.bin');
    const err = await failure(download(`${server.url}/missing.zip`, dest, { retryDelayMs: 1 }));
    expect(err).toMatchObject({ code: 'http', status: 404 });
    expect(err.message).toBe(`${server.url}/missing.zip: the server answered 404 Not Found: check the name and the address, or point --url at a mirror`);
    expect(server.log).toHaveLength(1);
    await expect(stat(partialPath(dest))).rejects.toThrow();
  });

  test('no network: an address nothing listens on fails after the retries, in one line', async () => {
    const closed = await startTestServer();
    await closed.close();
    const err = await failure(download(`${closed.url}/x.zip`, join(dir, 'x.zip'), { retries: 2, retryDelayMs: 1 }));
    expect(err.code).toBe('network');
    expect(err.message).toMatch(/cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\).*gave up after 3 attempts/);
  });

  test('a stopped download keeps its part file and says how to continue', async () => {
    server.files.set('/slow.bin', { body, dropAfter: 50_000, dropTimes: 5 });
    const controller = new AbortController();
    const dest = join(dir, 'slow.bin');
    const err = await failure(
      download(`${server.url}/slow.bin`, dest, { signal: controller.signal, retryDelayMs: 10_000, onRetry: () => controller.abort() }),
    );
    expect(err.code).toBe('aborted');
    expect((await stat(partialPath(dest))).size).toBeGreaterThan(0);
  });

  test('goes through the proxy named by HTTP_PROXY, and around it for NO_PROXY hosts', async () => {
    const proxy = await startTestProxy();
    const saved = { HTTP_PROXY: process.env.HTTP_PROXY, http_proxy: process.env.http_proxy, NO_PROXY: process.env.NO_PROXY, no_proxy: process.env.no_proxy };
    try {
      delete process.env.http_proxy;
      delete process.env.no_proxy;
      delete process.env.NO_PROXY;
      process.env.HTTP_PROXY = proxy.url;
      server.files.set('/proxied.bin', { body });
      await download(`${server.url}/proxied.bin`, join(dir, 'proxied.bin'));
      expect(proxy.forwarded).toHaveLength(1);
      expect(proxy.forwarded[0]).toContain(new URL(server.url).host);
      process.env.NO_PROXY = '127.0.0.1';
      await download(`${server.url}/proxied.bin`, join(dir, 'direct.bin'));
      expect(proxy.forwarded).toHaveLength(1);
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      await proxy.close();
    }
  });

  test('bad options are one-line errors', async () => {
    expect((await failure(download('ftp://example.org/a.zip', join(dir, 'f')))).message).toBe('ftp://example.org/a.zip: uses ftp: give an http:// or https:// URL');
    expect((await failure(download('not a url', join(dir, 'f')))).code).toBe('bad-option');
    expect((await failure(download(`${server.url}/a`, join(dir, 'f'), { sha256: 'abc' }))).subject).toBe('sha256');
  });

  test('disk full is its own one-line error', () => {
    const err = writeError('/data/x.zip', Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
    expect(err.code).toBe('disk-full');
    expect(err.message).toBe('/data/x.zip: the disk is full: free some space (or choose another folder) and run the command again; what was written so far is kept');
  });
});
