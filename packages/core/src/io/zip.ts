// A small zip reader: enough for PyTorch checkpoints (STORED entries, DEFLATE too, zip64 records). It finds
// the entries through the central directory and checks each one's local header, size and CRC-32 on reading.
import { inflateSync } from 'fflate';
import { crc32 } from './crc32';
import { WeightFileError } from './errors';

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const ZIP64_END_LOCATOR = 0x07064b50;
const ZIP64_END_OF_CENTRAL_DIRECTORY = 0x06064b50;
const DATA_DESCRIPTOR = 0x08074b50;
const ZIP64_EXTRA_ID = 0x0001;
const MAX_COMMENT = 0xffff;

const METHODS: Record<number, string> = { 0: 'STORED', 8: 'DEFLATE' };
/** DEFLATE expands at most about 1032:1; an entry claiming more is lying about its size. */
const DEFLATE_MAX_RATIO = 1032;
/**
 * All inflated entries together may hold at most this multiple of the file (plus a margin): PyTorch stores its
 * entries uncompressed, and a compression bomb must not make the reader allocate gigabytes.
 */
const INFLATE_BUDGET_RATIO = 16;
const INFLATE_BUDGET_MARGIN = 16 * 2 ** 20;

export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  compressedSize: number;
  size: number;
  crc32: number;
  localHeaderOffset: number;
  /** Set on the entry a truncation went through (in an incomplete archive): its data ends with the file. */
  cutShort?: true;
}

export class ZipArchive {
  /** Bytes inflated so far, against the budget of `INFLATE_BUDGET_RATIO`. */
  private inflated = 0;

  /**
   * @param complete false when the file had no end-of-central-directory record and the entries were
   *   recovered by walking the local headers: the file was cut short, and the last entries' data may be too.
   */
  constructor(
    readonly source: string,
    private readonly bytes: Uint8Array,
    readonly entries: ReadonlyMap<string, ZipEntry>,
    readonly complete: boolean,
  ) {}

  /**
   * The entry's uncompressed data (a view into the file for STORED entries). In an incomplete archive an
   * entry whose data runs past the end of the file comes back short, unchecked, so that the caller can say
   * what is missing.
   */
  read(name: string): Uint8Array {
    const entry = this.entries.get(name);
    if (entry === undefined) throw new WeightFileError(this.source, `has no zip entry '${name}'`);
    const fail = (message: string) => new WeightFileError(this.source, `zip entry '${name}' ${message}`);
    if (!(entry.method in METHODS)) {
      const valid = Object.entries(METHODS)
        .map(([id, label]) => `${id} (${label})`)
        .join(', ');
      throw fail(`uses compression method ${entry.method}; supported: ${valid}`);
    }
    if (entry.flags & 1) throw fail('is encrypted');
    const start = localDataStart(this.bytes, entry.localHeaderOffset, fail);
    const end = start + entry.compressedSize;
    if (entry.cutShort || end > this.bytes.length) {
      if (this.complete || entry.method !== 0) {
        throw fail(
          entry.cutShort
            ? 'is cut short by the end of the file (file truncated?)'
            : `needs bytes ${start}..${end} but the file has ${this.bytes.length} (file truncated?)`,
        );
      }
      return this.bytes.subarray(start);
    }
    const stored = this.bytes.subarray(start, end);
    if (entry.method === 8) this.claimInflated(entry, fail);
    const data = entry.method === 0 ? stored : inflate(stored, entry.size, fail);
    if (data.length !== entry.size) throw fail(`holds ${data.length} bytes, its header says ${entry.size}`);
    if (crc32(data) !== entry.crc32) throw fail('fails its CRC-32 check (file corrupted)');
    return data;
  }

  private claimInflated(entry: ZipEntry, fail: (message: string) => Error): void {
    if (entry.size > DEFLATE_MAX_RATIO * entry.compressedSize + 64) {
      throw fail(`claims ${entry.size} bytes from ${entry.compressedSize} compressed, more than DEFLATE can expand to (file corrupted)`);
    }
    const budget = INFLATE_BUDGET_RATIO * this.bytes.length + INFLATE_BUDGET_MARGIN;
    this.inflated += entry.size;
    if (this.inflated > budget) {
      throw fail(`would inflate the archive's entries past ${budget} bytes from a ${this.bytes.length}-byte file; refusing a compression bomb`);
    }
  }
}

function inflate(data: Uint8Array, size: number, fail: (message: string) => Error): Uint8Array {
  try {
    return inflateSync(data, { out: new Uint8Array(size) });
  } catch (e) {
    throw fail(`does not inflate (${(e as Error).message}; file corrupted?)`);
  }
}

function localDataStart(bytes: Uint8Array, offset: number, fail: (message: string) => Error): number {
  if (offset + 30 > bytes.length) throw fail(`has its local header at byte ${offset}, past the end of the file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, 30);
  if (view.getUint32(0, true) !== LOCAL_HEADER) {
    throw fail(`has no local header at byte ${offset} (corrupted zip?)`);
  }
  return offset + 30 + view.getUint16(26, true) + view.getUint16(28, true);
}

/** Parses the zip's directory. `source` names the file in errors. */
export function readZip(bytes: Uint8Array, source: string): ZipArchive {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = findEndOfCentralDirectory(view);
  if (end < 0) return new ZipArchive(source, bytes, walkLocalHeaders(bytes, view, source), false);
  const fail = (message: string) => new WeightFileError(source, `${message} (corrupted zip?)`);
  let count = view.getUint16(end + 10, true);
  let directorySize = view.getUint32(end + 12, true);
  let directoryOffset = view.getUint32(end + 16, true);
  const locator = end - 20;
  if (locator >= 0 && view.getUint32(locator, true) === ZIP64_END_LOCATOR) {
    const record = readUint64(view, locator + 8, fail);
    if (record + 56 > end || view.getUint32(record, true) !== ZIP64_END_OF_CENTRAL_DIRECTORY) {
      throw fail(`has no zip64 end-of-central-directory record at byte ${record}`);
    }
    count = readUint64(view, record + 32, fail);
    directorySize = readUint64(view, record + 40, fail);
    directoryOffset = readUint64(view, record + 48, fail);
  }
  if (directoryOffset + directorySize > end) {
    throw fail(
      `has a central directory (bytes ${directoryOffset}..${
        directoryOffset + directorySize
      }) overrunning its end record at byte ${end}`,
    );
  }
  const entries = new Map<string, ZipEntry>();
  let position = directoryOffset;
  for (let i = 0; i < count; i++) {
    if (position + 46 > directoryOffset + directorySize || view.getUint32(position, true) !== CENTRAL_HEADER) {
      throw fail(`has no central directory entry ${i} at byte ${position}`);
    }
    const nameLength = view.getUint16(position + 28, true);
    const extraLength = view.getUint16(position + 30, true);
    const commentLength = view.getUint16(position + 32, true);
    const next = position + 46 + nameLength + extraLength + commentLength;
    if (next > directoryOffset + directorySize)
      throw fail(`has central directory entry ${i} overrunning the directory`);
    const name = new TextDecoder().decode(bytes.subarray(position + 46, position + 46 + nameLength));
    const wide = zip64Fields(view, position + 46 + nameLength, extraLength, fail);
    const size = view.getUint32(position + 24, true);
    const compressedSize = view.getUint32(position + 20, true);
    const localHeaderOffset = view.getUint32(position + 42, true);
    // Zip64 extra fields hold, in this order, only the values whose 32-bit fields are saturated.
    const take = (value: number): number => {
      if (value !== 0xffffffff) return value;
      const wideValue = wide.shift();
      if (wideValue === undefined) throw fail(`has central directory entry '${name}' without its zip64 sizes`);
      return wideValue;
    };
    const entry: ZipEntry = {
      name,
      flags: view.getUint16(position + 8, true),
      method: view.getUint16(position + 10, true),
      crc32: view.getUint32(position + 16, true),
      size: take(size),
      compressedSize: take(compressedSize),
      localHeaderOffset: take(localHeaderOffset),
    };
    if (entries.has(name)) throw fail(`has two entries named '${name}'`);
    entries.set(name, entry);
    position = next;
  }
  checkNoOverlap(bytes, entries, source);
  return new ZipArchive(source, bytes, entries, true);
}

/**
 * Refuses entries whose data overlap (the trick of zip bombs that point many entries at one stream): each
 * entry's local header must start past the end of the previous one's data.
 */
function checkNoOverlap(bytes: Uint8Array, entries: ReadonlyMap<string, ZipEntry>, source: string): void {
  const spans = [...entries.values()]
    .map((entry) => {
      const dataStart = localDataStart(bytes, entry.localHeaderOffset, (m) => new WeightFileError(source, `zip entry '${entry.name}' ${m}`));
      return { name: entry.name, start: entry.localHeaderOffset, end: dataStart + entry.compressedSize };
    })
    .sort((a, b) => a.start - b.start);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i].start < spans[i - 1].end) {
      throw new WeightFileError(source, `has zip entries '${spans[i - 1].name}' and '${spans[i].name}' whose data overlap (corrupted zip, or a zip bomb)`);
    }
  }
}

function findEndOfCentralDirectory(view: DataView): number {
  const last = view.byteLength - 22;
  for (let i = last; i >= Math.max(0, last - MAX_COMMENT); i--) {
    if (
      view.getUint32(i, true) === END_OF_CENTRAL_DIRECTORY &&
      i + 22 + view.getUint16(i + 20, true) <= view.byteLength
    ) {
      return i;
    }
  }
  return -1;
}

function readUint64(view: DataView, offset: number, fail: (message: string) => Error): number {
  if (offset + 8 > view.byteLength) throw fail(`has a zip64 field at byte ${offset}, past the end of the file`);
  const value = view.getBigUint64(offset, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw fail(`has a zip64 field of ${value}, too large`);
  return Number(value);
}

/** The 64-bit values of the zip64 extra field among the extra fields at `offset`, in order. */
function zip64Fields(view: DataView, offset: number, length: number, fail: (message: string) => Error): number[] {
  for (let p = offset; p + 4 <= offset + length; ) {
    const id = view.getUint16(p, true);
    const size = view.getUint16(p + 2, true);
    if (id === ZIP64_EXTRA_ID) {
      const values: number[] = [];
      for (let q = p + 4; q + 8 <= Math.min(p + 4 + size, offset + length); q += 8)
        values.push(readUint64(view, q, fail));
      return values;
    }
    p += 4 + size;
  }
  return [];
}

/**
 * Recovers the entries of a zip whose end (and so its central directory) is missing, from the local
 * headers. PyTorch's writer puts each entry's sizes after its data, in a data descriptor, so those are found
 * by their signature and a size equal to their distance from the data; an entry whose descriptor is not
 * there is the one the cut went through, and keeps the bytes up to the end of the file.
 */
function walkLocalHeaders(bytes: Uint8Array, view: DataView, source: string): Map<string, ZipEntry> {
  const entries = new Map<string, ZipEntry>();
  const fail = (message: string) => new WeightFileError(source, message);
  let position = 0;
  while (position + 30 <= bytes.length && view.getUint32(position, true) === LOCAL_HEADER) {
    const flags = view.getUint16(position + 6, true);
    const nameLength = view.getUint16(position + 26, true);
    const extraLength = view.getUint16(position + 28, true);
    const dataStart = position + 30 + nameLength + extraLength;
    if (dataStart > bytes.length) break; // the cut went through this header
    const name = new TextDecoder().decode(bytes.subarray(position + 30, position + 30 + nameLength));
    const entry: ZipEntry = {
      name,
      flags,
      method: view.getUint16(position + 8, true),
      crc32: view.getUint32(position + 14, true),
      size: view.getUint32(position + 22, true),
      compressedSize: view.getUint32(position + 18, true),
      localHeaderOffset: position,
    };
    if (entries.has(name)) throw fail(`has two entries named '${name}'`);
    let next: number;
    if (flags & 8) {
      const descriptor = findDataDescriptor(view, dataStart);
      if (descriptor === undefined) {
        entries.set(name, { ...entry, compressedSize: bytes.length - dataStart, cutShort: true });
        break;
      }
      const { compressedSize, size } = descriptor;
      entries.set(name, { ...entry, crc32: descriptor.crc32, compressedSize, size });
      next = descriptor.end;
    } else {
      const wide = zip64Fields(view, position + 30 + nameLength, extraLength, fail);
      if (entry.size === 0xffffffff) entry.size = wide.shift() ?? entry.size;
      if (entry.compressedSize === 0xffffffff) entry.compressedSize = wide.shift() ?? entry.compressedSize;
      entries.set(name, entry);
      next = dataStart + entry.compressedSize;
    }
    position = next;
  }
  if (entries.size === 0) {
    throw fail(
      'is not a zip archive: no end-of-central-directory record and no readable local header (file truncated?)',
    );
  }
  return entries;
}

interface DataDescriptor {
  crc32: number;
  compressedSize: number;
  size: number;
  /** Offset just past the descriptor. */
  end: number;
}

/** The data descriptor (32- or 64-bit sizes) following the entry data that starts at `dataStart`. */
function findDataDescriptor(view: DataView, dataStart: number): DataDescriptor | undefined {
  for (let p = dataStart; p + 16 <= view.byteLength; p++) {
    if (view.getUint32(p, true) !== DATA_DESCRIPTOR) continue;
    const crc = view.getUint32(p + 4, true);
    if (view.getUint32(p + 8, true) === p - dataStart) {
      return { crc32: crc, compressedSize: p - dataStart, size: view.getUint32(p + 12, true), end: p + 16 };
    }
    if (p + 24 <= view.byteLength && view.getBigUint64(p + 8, true) === BigInt(p - dataStart)) {
      return { crc32: crc, compressedSize: p - dataStart, size: Number(view.getBigUint64(p + 16, true)), end: p + 24 };
    }
  }
  return undefined;
}
