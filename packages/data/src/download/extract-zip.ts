// Safe zip extraction (through yauzl): every entry is checked before anything is written — no absolute paths,
// no `..`, no links or devices, no encryption, declared sizes within bounds and within the free disk space —
// then the files are written to a temporary sibling folder, with their real sizes held to the declared ones,
// and the folder is renamed into place. A failure removes the temporary folder: nothing is half-extracted.
import { randomBytes } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import yauzl from 'yauzl';
import { DownloadError, errorCode, writeError } from './errors';

export interface ZipEntryInfo {
  /** The entry's path inside the archive, '/'-separated, without a leading './' or a trailing '/'. */
  path: string;
  directory: boolean;
  /** Declared uncompressed size in bytes. */
  size: number;
}

export interface ExtractLimits {
  /** Most uncompressed bytes in all (default 64 GiB). */
  maxBytes?: number;
  /** Most entries (default 1,000,000). */
  maxEntries?: number;
  /**
   * Most uncompressed bytes per archive byte, checked once the archive expands past 64 MiB (default 100; image
   * datasets are close to 1, a compression bomb is near 1000).
   */
  maxRatio?: number;
}

export interface ExtractProgress {
  entries: number;
  totalEntries: number;
  bytes: number;
  totalBytes: number;
}

export interface ExtractOptions {
  limits?: ExtractLimits;
  /**
   * Sees every entry before anything is written and returns where each goes under the destination (a relative
   * '/'-path), or undefined to skip it. It may throw (a DownloadError) to refuse the archive. Default: as is.
   */
  plan?: (entries: readonly ZipEntryInfo[]) => (path: string) => string | undefined;
  /** Replace an existing destination (it is removed only once the new one is complete). */
  replace?: boolean;
  onProgress?: (progress: ExtractProgress) => void;
  signal?: AbortSignal;
}

export interface ExtractResult {
  path: string;
  files: number;
  bytes: number;
  skipped: number;
}

const DEFAULT_LIMITS: Required<ExtractLimits> = { maxBytes: 64 * 1024 ** 3, maxEntries: 1_000_000, maxRatio: 100 };
const RATIO_FLOOR = 64 * 1024 ** 2;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const MADE_BY_UNIX = 3;
const SUPPORTED_METHODS = new Set([0, 8]);
/** zlib.crc32 (Node 20.15 and later). */
const crc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/**
 * Checks a zip entry's name: returns its normalised relative path ('' for the root itself), or throws a
 * DownloadError when it is absolute, climbs out with '..', or has a NUL.
 */
export function safeEntryPath(zipPath: string, name: string): string {
  const unsafe = (why: string) => new DownloadError('unsafe-archive', zipPath, `holds the entry '${name}', which ${why}: refused, nothing was extracted`);
  if (name.includes('\0')) throw unsafe('has a NUL character in its name');
  const slashed = name.replace(/\\/g, '/');
  if (slashed.startsWith('/') || /^[a-zA-Z]:/.test(slashed)) throw unsafe('is an absolute path');
  const segments = slashed.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw unsafe("points outside the folder ('..')");
  return segments.join('/');
}

/** The entries of a zip file, checked as `extractZip` checks them, without extracting anything. */
export async function listZip(zipPath: string, limits: ExtractLimits = {}): Promise<ZipEntryInfo[]> {
  const zip = await openZip(zipPath);
  try {
    return (await readEntries(zip, zipPath, { ...DEFAULT_LIMITS, ...limits })).map((e) => e.info);
  } finally {
    zip.close();
  }
}

/**
 * Extracts `zipPath` into the folder `dest` (which must not exist unless `replace`), safely: see the file's
 * header. Throws a DownloadError ('unsafe-archive', 'archive-too-large', 'bad-archive', 'disk-full', 'exists').
 */
export async function extractZip(zipPath: string, dest: string, options: ExtractOptions = {}): Promise<ExtractResult> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const target = resolve(dest);
  if (!options.replace && (await exists(target))) {
    throw new DownloadError('exists', target, 'already exists: remove it or pass --force to replace it (or choose another --out)');
  }
  const zip = await openZip(zipPath);
  try {
    const entries = await readEntries(zip, zipPath, limits);
    const place = options.plan?.(entries.map((e) => e.info)) ?? ((path: string) => path);
    const writes: { entry: yauzl.Entry; info: ZipEntryInfo; to: string }[] = [];
    const taken = new Set<string>();
    let skipped = 0;
    for (const { entry, info } of entries) {
      const mapped = info.path === '' ? undefined : place(info.path);
      if (mapped === undefined) {
        skipped++;
        continue;
      }
      const to = safeEntryPath(zipPath, mapped);
      if (to === '') continue;
      if (!info.directory) {
        if (taken.has(to)) throw new DownloadError('bad-archive', zipPath, `holds '${info.path}' twice: the archive is damaged; download it again`);
        taken.add(to);
      }
      writes.push({ entry, info, to });
    }
    const totalBytes = writes.reduce((sum, w) => sum + w.info.size, 0);
    await checkFreeSpace(dirname(target), totalBytes);

    const staging = join(dirname(target), `.${basename(target)}.extracting-${randomBytes(4).toString('hex')}`);
    try {
      await fs.mkdir(staging, { recursive: false });
    } catch (err) {
      throw writeError(dirname(target), err);
    }
    try {
      let bytes = 0;
      let done = 0;
      let files = 0;
      for (const { entry, info, to } of writes) {
        if (options.signal?.aborted) throw new DownloadError('aborted', zipPath, 'the extraction was stopped; nothing was extracted');
        const full = resolve(staging, to);
        if (!full.startsWith(staging + sep)) throw new DownloadError('unsafe-archive', zipPath, `holds the entry '${info.path}', which points outside the folder: refused, nothing was extracted`);
        if (info.directory) {
          await fs.mkdir(full, { recursive: true });
        } else {
          await fs.mkdir(dirname(full), { recursive: true });
          await writeEntry(zip, entry, zipPath, info, full);
          bytes += info.size;
          files++;
        }
        done++;
        options.onProgress?.({ entries: done, totalEntries: writes.length, bytes, totalBytes });
      }
      if (await exists(target)) {
        if (!options.replace) throw new DownloadError('exists', target, 'appeared while extracting: remove it or pass --force to replace it');
        const old = join(dirname(target), `.${basename(target)}.replaced-${randomBytes(4).toString('hex')}`);
        await fs.rename(target, old);
        await fs.rename(staging, target);
        await fs.rm(old, { recursive: true, force: true });
      } else {
        await fs.rename(staging, target);
      }
      return { path: target, files, bytes, skipped };
    } catch (err) {
      await fs.rm(staging, { recursive: true, force: true });
      if (err instanceof DownloadError) throw err;
      throw writeError(target, err);
    }
  } finally {
    zip.close();
  }
}

async function exists(path: string): Promise<boolean> {
  return (await fs.lstat(path).catch(() => undefined)) !== undefined;
}

function openZip(zipPath: string): Promise<yauzl.ZipFile> {
  return new Promise((resolvePromise, reject) => {
    yauzl.open(zipPath, { lazyEntries: true, autoClose: false, decodeStrings: true, validateEntrySizes: true }, (err, zip) => {
      if (err !== null || zip === undefined) reject(archiveError(zipPath, err));
      else resolvePromise(zip);
    });
  });
}

function archiveError(zipPath: string, err: unknown): DownloadError {
  if (err instanceof DownloadError) return err;
  const code = errorCode(err);
  if (code === 'ENOENT') return new DownloadError('bad-archive', zipPath, 'does not exist: check the path');
  const message = err instanceof Error ? err.message : String(err);
  const unsafe = /^(absolute path|invalid relative path|invalid characters in fileName): (.*)$/.exec(message);
  if (unsafe !== null) {
    const why = unsafe[1] === 'absolute path' ? 'is an absolute path' : unsafe[1] === 'invalid relative path' ? "points outside the folder ('..')" : 'has a backslash in its name';
    return new DownloadError('unsafe-archive', zipPath, `holds the entry '${unsafe[2]}', which ${why}: refused, nothing was extracted`, { cause: err });
  }
  return new DownloadError('bad-archive', zipPath, `is not a readable zip file (${message}): it may be damaged or cut short; download it again`, { cause: err });
}

async function readEntries(zip: yauzl.ZipFile, zipPath: string, limits: Required<ExtractLimits>): Promise<{ entry: yauzl.Entry; info: ZipEntryInfo }[]> {
  if (zip.entryCount > limits.maxEntries) {
    throw new DownloadError('archive-too-large', zipPath, `has ${zip.entryCount} entries, more than the limit of ${limits.maxEntries}: refused as a possible zip bomb`);
  }
  const entries: { entry: yauzl.Entry; info: ZipEntryInfo }[] = [];
  let total = 0;
  await new Promise<void>((resolvePromise, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      try {
        const info = checkEntry(zipPath, entry);
        total += info.size;
        if (total > limits.maxBytes) {
          throw new DownloadError('archive-too-large', zipPath, `expands to more than ${formatBytes(limits.maxBytes)}: refused as a possible zip bomb`);
        }
        entries.push({ entry, info });
        zip.readEntry();
      } catch (err) {
        reject(err);
      }
    });
    zip.on('end', () => resolvePromise());
    zip.on('error', (err: unknown) => reject(archiveError(zipPath, err)));
    zip.readEntry();
  });
  if (total > RATIO_FLOOR && total > limits.maxRatio * zip.fileSize) {
    throw new DownloadError(
      'archive-too-large',
      zipPath,
      `expands ${Math.round(total / zip.fileSize)}-fold (${formatBytes(zip.fileSize)} to ${formatBytes(total)}), more than the limit of ${limits.maxRatio}: refused as a possible zip bomb`,
    );
  }
  return entries;
}

function checkEntry(zipPath: string, entry: yauzl.Entry): ZipEntryInfo {
  const path = safeEntryPath(zipPath, entry.fileName);
  const directoryByName = entry.fileName.endsWith('/');
  if (entry.versionMadeBy >>> 8 === MADE_BY_UNIX) {
    const type = (entry.externalFileAttributes >>> 16) & S_IFMT;
    if (type === S_IFLNK) throw new DownloadError('unsafe-archive', zipPath, `holds the symbolic link '${entry.fileName}': links are refused, nothing was extracted`);
    if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) {
      throw new DownloadError('unsafe-archive', zipPath, `holds '${entry.fileName}', which is not a file or a folder: refused, nothing was extracted`);
    }
  }
  if (entry.isEncrypted()) throw new DownloadError('bad-archive', zipPath, `holds the encrypted entry '${entry.fileName}': encrypted archives are not supported`);
  if (!SUPPORTED_METHODS.has(entry.compressionMethod)) {
    throw new DownloadError('bad-archive', zipPath, `holds '${entry.fileName}' compressed with method ${entry.compressionMethod}: only stored (0) and deflate (8) are supported`);
  }
  return { path, directory: directoryByName, size: directoryByName ? 0 : entry.uncompressedSize };
}

async function checkFreeSpace(dir: string, bytes: number): Promise<void> {
  const stats = await fs.statfs(dir).catch(() => undefined);
  if (stats === undefined) return;
  const free = stats.bavail * stats.bsize;
  if (bytes > free) {
    throw new DownloadError('disk-full', dir, `has ${formatBytes(free)} free, and the archive expands to ${formatBytes(bytes)}: free some space or choose another folder`);
  }
}

async function writeEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, zipPath: string, info: ZipEntryInfo, full: string): Promise<void> {
  const stream = await new Promise<Readable>((resolvePromise, reject) => {
    zip.openReadStream(entry, (err, readStream) => (err !== null ? reject(archiveError(zipPath, err)) : resolvePromise(readStream)));
  });
  // yauzl already stops an entry that inflates past its declared size; this holds every write to it anyway, and
  // checks the CRC-32, which yauzl leaves to its callers.
  let written = 0;
  let crc = 0;
  const bound = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      written += chunk.length;
      if (written > info.size) return callback(new DownloadError('archive-too-large', zipPath, `entry '${info.path}' expands past its declared ${info.size} bytes: refused as a possible zip bomb`));
      if (crc32 !== undefined) crc = crc32(chunk, crc);
      callback(null, chunk);
    },
    flush(callback) {
      if (crc32 !== undefined && crc >>> 0 !== entry.crc32 >>> 0) {
        return callback(new DownloadError('bad-archive', zipPath, `entry '${info.path}' fails its CRC-32 check: the archive is damaged; download it again`));
      }
      callback();
    },
  });
  try {
    await pipeline(stream, bound, createWriteStream(full, { flags: 'wx' }));
  } catch (err) {
    if (err instanceof DownloadError) throw err;
    const code = errorCode(err);
    if (code !== undefined && /^E[A-Z]+$/.test(code) && code !== 'EPIPE') throw writeError(full, err);
    const message = err instanceof Error ? err.message : String(err);
    if (/bytes in the stream/i.test(message)) {
      throw new DownloadError('bad-archive', zipPath, `entry '${info.path}' does not match its declared size (${message}): the archive is damaged or forged; download it again`, { cause: err });
    }
    throw new DownloadError('bad-archive', zipPath, `entry '${info.path}' cannot be read (${message}): the archive is damaged; download it again`, { cause: err });
  }
}

/** Bytes in binary units, for messages and listings: '111.0 MiB'. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} MiB`.replace('MiB', units[unit]);
}
