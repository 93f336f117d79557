// A resumable, verified HTTP(S) download to a file: streamed to `DEST.part` (resumed with a Range request after
// an interruption), checked for size and sha256, then renamed into place, so DEST is either absent or whole.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { EnvHttpProxyAgent, request, type Dispatcher } from 'undici';
import { DownloadError, errorCode, writeError } from './errors';

export interface DownloadProgress {
  url: string;
  /** Bytes in the file so far (including those kept from an earlier, interrupted transfer). */
  received: number;
  /** The file's full size when the server said it (or `size` was given). */
  total?: number;
  /** Over the last few seconds of this transfer; NaN at its start. */
  bytesPerSecond: number;
  /** Seconds left at that rate, when the total is known. */
  etaSeconds?: number;
  /** Bytes kept from an earlier transfer that this one continues (0 on a fresh start). */
  resumedFrom: number;
}

export interface DownloadRetry {
  url: string;
  /** The attempt that failed, from 1. */
  attempt: number;
  /** What went wrong, in one line. */
  reason: string;
  delayMs: number;
}

export interface DownloadOptions {
  /** The expected sha256 (hex). A finished file that differs is deleted and the download fails. */
  sha256?: string;
  /** The expected size in bytes. */
  size?: number;
  onProgress?: (progress: DownloadProgress) => void;
  /** Called before each retry after a transient failure (a dropped connection, a 5xx answer). */
  onRetry?: (retry: DownloadRetry) => void;
  /** Stops the transfer; the partial file is kept for a later resume. */
  signal?: AbortSignal;
  /** Retries after transient failures (default 4); each continues from where the last one stopped. */
  retries?: number;
  /** The first retry's wait; each next one doubles it (default 1000 ms). */
  retryDelayMs?: number;
  /** How long the server may stay silent before the attempt counts as failed (default 60 s). */
  timeoutMs?: number;
  /**
   * Where requests go (default: a new undici EnvHttpProxyAgent, which honours HTTP_PROXY, HTTPS_PROXY and
   * NO_PROXY, in either case, as they are when `download` is called).
   */
  dispatcher?: Dispatcher;
  headers?: Record<string, string>;
  /** Redirects followed (default 5). */
  maxRedirects?: number;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  sha256: string;
  /** The address the file came from, after redirects. */
  url: string;
  /** True when `path` already held the verified file and nothing was fetched. */
  reused: boolean;
  /** True when the transfer continued a partial file left by an earlier one. */
  resumed: boolean;
}

const TRANSIENT_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);
/** Failures to reach the host at all: no network, a wrong name, nothing listening. */
const UNREACHABLE = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'UND_ERR_CONNECT_TIMEOUT']);
const SHA256_HEX = /^[0-9a-f]{64}$/i;

/** The part file `download` writes DEST to before renaming it. */
export function partialPath(dest: string): string {
  return `${dest}.part`;
}

/** The sha256 (hex) of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), async function* (source) {
    for await (const chunk of source) hash.update(chunk as Buffer);
  });
  return hash.digest('hex');
}

/**
 * Downloads `url` to `dest`. An existing `dest` that matches `sha256` (or `size`, when no sha256 is given) is
 * kept as it is. A partial file from an interrupted call is continued with an HTTP Range request (from scratch
 * when the server ignores ranges). Transient failures are retried with backoff. Throws a DownloadError (one
 * line: no network, an HTTP error, a size or checksum mismatch, disk full, aborted).
 */
export async function download(url: string, dest: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  const parsed = parseUrl(url);
  if (options.sha256 !== undefined && !SHA256_HEX.test(options.sha256)) {
    throw new DownloadError('bad-option', 'sha256', `'${options.sha256}' is not a sha256: give 64 hexadecimal digits`);
  }
  if (options.size !== undefined && !(Number.isSafeInteger(options.size) && options.size >= 0)) {
    throw new DownloadError('bad-option', 'size', `${options.size} is not a size in bytes: give a whole number >= 0`);
  }
  const expectedSha = options.sha256?.toLowerCase();

  const existing = await verifyExisting(dest, expectedSha, options.size);
  if (existing !== undefined) return { path: dest, bytes: existing.bytes, sha256: existing.sha256, url, reused: true, resumed: false };

  const ownDispatcher = options.dispatcher === undefined ? new EnvHttpProxyAgent() : undefined;
  const dispatcher = options.dispatcher ?? ownDispatcher!;
  try {
    return await fetchToFile(parsed.href, dest, expectedSha, options, dispatcher);
  } finally {
    await ownDispatcher?.close();
  }
}

function parseUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DownloadError('bad-option', url, 'is not a valid address: give an http:// or https:// URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new DownloadError('bad-option', url, `uses ${parsed.protocol.slice(0, -1)}: give an http:// or https:// URL`);
  }
  return parsed;
}

async function verifyExisting(dest: string, sha256: string | undefined, size: number | undefined): Promise<{ bytes: number; sha256: string } | undefined> {
  if (sha256 === undefined && size === undefined) return undefined;
  const stat = await fs.stat(dest).catch(() => undefined);
  if (stat === undefined || !stat.isFile()) return undefined;
  if (size !== undefined && stat.size !== size) return undefined;
  const actual = await sha256File(dest);
  if (sha256 !== undefined && actual !== sha256) return undefined;
  return { bytes: stat.size, sha256: actual };
}

/** One transfer's outcome: done, or continue (after a transient failure, or at once after restarting). */
type Attempt = { done: true; url: string; bytes: number } | { done: false; reason: string; immediate?: boolean };

async function fetchToFile(url: string, dest: string, sha256: string | undefined, options: DownloadOptions, dispatcher: Dispatcher): Promise<DownloadResult> {
  const part = partialPath(dest);
  const retries = options.retries ?? 4;
  const baseDelay = options.retryDelayMs ?? 1000;
  let failures = 0;
  let restartedForChecksum = false;
  let resumed = false;
  for (;;) {
    const offset = await partSize(part, options.size);
    if (offset > 0) resumed = true;
    const attempt = await transfer(url, part, offset, options, dispatcher);
    if (attempt.done) {
      const result = await finish(attempt, part, dest, sha256, options.size, resumed && !restartedForChecksum);
      if (result !== 'restart') return { ...result, resumed };
      // A stale partial file (an older version of the file) can make a resumed transfer wrong: start over once.
      restartedForChecksum = true;
      resumed = false;
      continue;
    }
    if (attempt.immediate) continue;
    failures++;
    if (failures > retries) {
      throw new DownloadError('network', url, `${attempt.reason}; gave up after ${failures} attempts: check the connection (or HTTPS_PROXY) and run the command again, which continues the partial file`);
    }
    const delayMs = baseDelay * 2 ** (failures - 1);
    options.onRetry?.({ url, attempt: failures, reason: attempt.reason, delayMs });
    await sleep(delayMs, options.signal, url);
  }
}

/** Bytes already in the part file, or 0 (removing it) when it cannot be a prefix of the expected file. */
async function partSize(part: string, size: number | undefined): Promise<number> {
  const stat = await fs.stat(part).catch(() => undefined);
  if (stat === undefined) return 0;
  if (!stat.isFile() || (size !== undefined && stat.size > size)) {
    await fs.rm(part, { force: true, recursive: true });
    return 0;
  }
  return stat.size;
}

async function finish(
  attempt: { url: string; bytes: number },
  part: string,
  dest: string,
  sha256: string | undefined,
  size: number | undefined,
  mayRestart: boolean,
): Promise<Omit<DownloadResult, 'resumed'> | 'restart'> {
  const actual = await sha256File(part);
  const mismatch =
    size !== undefined && attempt.bytes !== size
      ? new DownloadError('size-mismatch', attempt.url, `the file has ${attempt.bytes} bytes, expected ${size}: the server's copy changed or is damaged; try a mirror (--url)`)
      : sha256 !== undefined && actual !== sha256
        ? new DownloadError('checksum-mismatch', attempt.url, `the file's sha256 is ${actual}, expected ${sha256}: the download is damaged or the file changed; it was deleted, run the command again or use a mirror (--url)`)
        : undefined;
  if (mismatch !== undefined) {
    await fs.rm(part, { force: true });
    if (mayRestart) return 'restart';
    throw mismatch;
  }
  try {
    const handle = await fs.open(part, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(part, dest);
  } catch (err) {
    throw writeError(dest, err);
  }
  return { path: dest, bytes: attempt.bytes, sha256: actual, url: attempt.url, reused: false };
}

async function transfer(startUrl: string, part: string, offset: number, options: DownloadOptions, dispatcher: Dispatcher): Promise<Attempt> {
  const timeout = options.timeoutMs ?? 60_000;
  let url = startUrl;
  let response: Dispatcher.ResponseData;
  for (let redirects = 0; ; redirects++) {
    const headers: Record<string, string> = { 'user-agent': 'qsattn', ...options.headers };
    if (offset > 0) headers.range = `bytes=${offset}-`;
    try {
      response = await request(url, { dispatcher, method: 'GET', headers, signal: options.signal, headersTimeout: timeout, bodyTimeout: timeout });
    } catch (err) {
      return requestFailure(url, err, options.signal);
    }
    if (!REDIRECT_STATUS.has(response.statusCode)) break;
    await response.body.dump();
    const location = response.headers.location;
    if (typeof location !== 'string') throw new DownloadError('http', url, `the server redirected (${response.statusCode}) without saying where: try a mirror (--url)`, { status: response.statusCode });
    if (redirects >= (options.maxRedirects ?? 5)) throw new DownloadError('http', startUrl, 'too many redirects: try a mirror (--url)', { status: response.statusCode });
    url = parseUrl(new URL(location, url).href).href;
  }

  const status = response.statusCode;
  if (status === 416 && offset > 0) {
    await response.body.dump();
    // The part file already holds the whole file, or something longer than it: finish, or start over.
    const total = totalFromContentRange(response.headers['content-range']);
    if (total === offset) return { done: true, url, bytes: offset };
    await fs.rm(part, { force: true });
    return { done: false, reason: 'the partial file did not fit the server copy', immediate: true };
  }
  if (TRANSIENT_STATUS.has(status)) {
    await response.body.dump();
    return { done: false, reason: `the server answered ${status}` };
  }
  if (status !== 200 && status !== 206) {
    await response.body.dump();
    throw new DownloadError('http', url, `the server answered ${status}${statusText(status)}: check the name and the address, or point --url at a mirror`, { status });
  }

  let start = 0;
  let total: number | undefined;
  if (status === 206) {
    const range = parseContentRange(response.headers['content-range']);
    if (range === undefined || range.start !== offset) {
      await response.body.dump();
      await fs.rm(part, { force: true });
      return { done: false, reason: 'the server sent another range than asked', immediate: true };
    }
    start = offset;
    total = range.total;
  } else {
    const length = Number(header(response.headers['content-length']));
    total = Number.isSafeInteger(length) && length >= 0 ? length : undefined;
  }
  total ??= options.size;

  const meter = new RateMeter();
  let received = start;
  const out = createWriteStream(part, { flags: start > 0 ? 'a' : 'w' });
  let writeFailure: unknown;
  out.on('error', (err) => {
    writeFailure ??= err;
    response.body.destroy(err);
  });
  // The body is read in flowing mode, never paused: undici 7 crashes the process when a server closes the
  // connection while a response body is paused by backpressure (nodejs/undici#5360). Disks outpace networks, so
  // the file's write queue stays short.
  const bodyFailure = await new Promise<unknown>((resolvePromise) => {
    const body = response.body;
    body.on('data', (chunk: Buffer) => {
      if (writeFailure !== undefined) return;
      received += chunk.length;
      meter.add(received - start);
      if (options.onProgress !== undefined) {
        const bytesPerSecond = meter.perSecond;
        const etaSeconds = total !== undefined && bytesPerSecond > 0 ? (total - received) / bytesPerSecond : undefined;
        options.onProgress({ url, received, total, bytesPerSecond, resumedFrom: start, ...(etaSeconds === undefined ? {} : { etaSeconds }) });
      }
      out.write(chunk);
    });
    body.once('end', () => resolvePromise(undefined));
    body.once('error', (err) => resolvePromise(err));
  });
  // Whatever arrived is flushed to the part file before anything else, so that a retry continues after it.
  await new Promise<void>((resolvePromise) => {
    if (out.destroyed) return resolvePromise();
    out.end(() => resolvePromise());
    out.once('error', () => resolvePromise());
  });
  if (writeFailure !== undefined) throw writeError(part, writeFailure);
  if (bodyFailure !== undefined) {
    if (options.signal?.aborted) throw aborted(url, options.signal);
    return { done: false, reason: `the transfer broke after ${received} bytes (${describe(bodyFailure)})` };
  }
  if (total !== undefined && received < total) return { done: false, reason: `the transfer stopped after ${received} of ${total} bytes` };
  return { done: true, url, bytes: received };
}

function requestFailure(url: string, err: unknown, signal: AbortSignal | undefined): Attempt {
  if (signal?.aborted) throw aborted(url, signal);
  const code = errorCode(err);
  const host = new URL(url).host;
  if (code !== undefined && UNREACHABLE.has(code)) {
    return { done: false, reason: `cannot reach ${host} (${code}): no network, a wrong address, or a proxy needed` };
  }
  return { done: false, reason: `the request to ${host} failed (${describe(err)})` };
}

function aborted(url: string, signal: AbortSignal): DownloadError {
  return new DownloadError('aborted', url, 'the download was stopped; run the command again to continue it', { cause: signal.reason });
}

function describe(err: unknown): string {
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  return code !== undefined && !message.includes(code) ? `${code}: ${message}` : message;
}

function statusText(status: number): string {
  const known: Record<number, string> = { 400: ' Bad Request', 401: ' Unauthorized', 403: ' Forbidden', 404: ' Not Found', 410: ' Gone' };
  return known[status] ?? '';
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function parseContentRange(value: string | string[] | undefined): { start: number; total?: number } | undefined {
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header(value)?.trim() ?? '');
  if (match === null) return undefined;
  const total = match[3] === '*' ? undefined : Number(match[3]);
  return { start: Number(match[1]), ...(total === undefined ? {} : { total }) };
}

function totalFromContentRange(value: string | string[] | undefined): number | undefined {
  const match = /^bytes \*\/(\d+)$/.exec(header(value)?.trim() ?? '');
  return match === null ? undefined : Number(match[1]);
}

function sleep(ms: number, signal: AbortSignal | undefined, url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted(url, signal));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(aborted(url, signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Bytes per second over the last few seconds. */
class RateMeter {
  private samples: { t: number; bytes: number }[] = [];
  constructor(private readonly windowMs = 3000) {}

  add(bytes: number): void {
    const t = performance.now();
    this.samples.push({ t, bytes });
    while (this.samples.length > 2 && t - this.samples[0].t > this.windowMs) this.samples.shift();
  }

  get perSecond(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (first === undefined || last === first || last.t === first.t) return NaN;
    return ((last.bytes - first.bytes) * 1000) / (last.t - first.t);
  }
}
