// numpy .npz archives of float arrays (what pytorch-fid's --save-stats writes: mu, sigma), read and written
// so that statistics pass both ways between pytorch-fid and us.
import { unzipSync, zipSync } from 'fflate';
import { FidError } from './errors';

export interface NpyArray {
  shape: number[];
  /** float64 and float32 arrays as stored; uint8 for byte strings. */
  data: Float64Array | Float32Array | Uint8Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

function parseNpy(bytes: Uint8Array, name: string): NpyArray {
  if (!MAGIC.every((b, i) => bytes[i] === b)) throw new FidError(`${name}: not a .npy array`);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || shapeText === undefined) throw new FidError(`${name}: unreadable .npy header ${header.trim()}`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  if (fortran === 'True' && shape.length > 1) throw new FidError(`${name}: Fortran-ordered arrays are not read; save it with np.ascontiguousarray`);
  const body = bytes.slice(start + headerLength);
  const kinds: Record<string, [number, (b: ArrayBuffer) => NpyArray['data']]> = {
    '<f8': [8, (b) => new Float64Array(b, 0, count)],
    '<f4': [4, (b) => new Float32Array(b, 0, count)],
    '|u1': [1, (b) => new Uint8Array(b, 0, count)],
  };
  const kind = kinds[descr];
  if (kind === undefined) throw new FidError(`${name}: dtype ${descr} is not read (float64, float32 or uint8 arrays only)`);
  if (body.byteLength < count * kind[0]) throw new FidError(`${name}: truncated array (${body.byteLength} bytes for ${count} × ${descr})`);
  return { shape, data: kind[1](body.buffer) };
}

function npyBytes(array: NpyArray): Uint8Array {
  const descr = array.data instanceof Float64Array ? '<f8' : array.data instanceof Float32Array ? '<f4' : '|u1';
  const shape = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  header += ' '.repeat(64 - ((10 + header.length + 1) % 64 || 64)) + '\n';
  const out = new Uint8Array(10 + header.length + array.data.byteLength);
  out.set(MAGIC);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength), 10 + header.length);
  return out;
}

/** The arrays of an .npz archive (compressed or not), by name without `.npy`. */
export function readNpz(bytes: Uint8Array, name: string): Map<string, NpyArray> {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (error) {
    throw new FidError(`${name}: not an .npz archive (${(error as Error).message})`);
  }
  const out = new Map<string, NpyArray>();
  for (const [file, data] of Object.entries(files)) {
    if (file.endsWith('.npy')) out.set(file.slice(0, -4), parseNpy(data, `${name}:${file}`));
  }
  return out;
}

/** An .npz archive (deflated, as np.savez_compressed) of the given arrays. */
export function writeNpz(arrays: Record<string, NpyArray>): Uint8Array {
  const files: Record<string, Uint8Array> = {};
  for (const [key, array] of Object.entries(arrays)) files[`${key}.npy`] = npyBytes(array);
  return zipSync(files, { level: 6 });
}
