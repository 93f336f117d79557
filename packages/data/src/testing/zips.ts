// Test-only: zip files built in memory (with node:zlib), including hostile ones: names that climb out, links,
// bombs, and headers that lie about sizes.
import { randomBytes } from 'node:crypto';
import { crc32, deflateRawSync } from 'node:zlib';

export type ZipSpec = Record<string, Uint8Array | string | { data: Uint8Array | string; link?: boolean }>;

const bytes = (data: Uint8Array | string) => (typeof data === 'string' ? new TextEncoder().encode(data) : data);

/**
 * A zip of the given entries (names ending in '/' are folders; level 0 stores, others deflate); `link: true`
 * makes a Unix symbolic link.
 */
export function makeZip(spec: ZipSpec, level: 0 | 1 | 6 | 9 = 6): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, value] of Object.entries(spec)) {
    const plain = value instanceof Uint8Array || typeof value === 'string' ? bytes(value) : bytes(value.data);
    const unixMode = value instanceof Uint8Array || typeof value === 'string' ? undefined : value.link ? 0o120777 : 0o100644;
    const method = level === 0 || plain.length === 0 ? 0 : 8;
    const data = method === 0 ? plain : deflateRawSync(plain, { level });
    const nameBytes = Buffer.from(name, 'utf8');
    const crc = crc32(plain);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(plain.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(unixMode === undefined ? 20 : (3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(plain.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(unixMode === undefined ? 0 : (unixMode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, Buffer.from(data));
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(centrals.length / 2, 8);
  end.writeUInt16LE(centrals.length / 2, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...locals, directory, end]));
}

/** A fake JPEG-sized payload (random bytes do not compress, like real photos). */
export function fakeImage(size = 2000): Uint8Array {
  return randomBytes(size);
}

/** An unpaired dataset as the CycleGAN server packs it: NAME/{trainA,trainB,testA,testB}/*.jpg. */
export function datasetZip(name: string, counts: Partial<Record<'trainA' | 'trainB' | 'testA' | 'testB', number>> = {}, extra: ZipSpec = {}): Uint8Array {
  const spec: ZipSpec = { [`${name}/`]: '' };
  const all = { trainA: 3, trainB: 2, testA: 2, testB: 1, ...counts };
  for (const [folder, n] of Object.entries(all)) {
    spec[`${name}/${folder}/`] = '';
    for (let i = 0; i < n; i++) spec[`${name}/${folder}/n${i}_${folder}.jpg`] = fakeImage(1000 + i);
  }
  return makeZip({ ...spec, ...extra });
}

/**
 * Rewrites the declared uncompressed size of every entry named `name` (in its local header and in the central
 * directory), as a forged archive would.
 */
export function forgeSize(zip: Uint8Array, name: string, size: number): Uint8Array {
  const out = new Uint8Array(zip);
  const view = new DataView(out.buffer);
  const encoded = new TextEncoder().encode(name);
  const nameAt = (offset: number) => encoded.every((b, i) => out[offset + i] === b);
  for (let i = 0; i + 46 < out.length; i++) {
    const signature = view.getUint32(i, true);
    if (signature === 0x04034b50 && view.getUint16(i + 26, true) === encoded.length && nameAt(i + 30)) view.setUint32(i + 22, size, true);
    if (signature === 0x02014b50 && view.getUint16(i + 28, true) === encoded.length && nameAt(i + 46)) view.setUint32(i + 24, size, true);
  }
  return out;
}
