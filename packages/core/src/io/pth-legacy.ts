// PyTorch's legacy checkpoint format (torch.save before 1.6, or `_use_new_zipfile_serialization=False`):
// five pickles and the storages back to back. The pickles are a magic number, the format version, the
// platform's byte order and type sizes, the object, and the list of storage keys; then, in that list's order,
// each storage as an int64 little-endian element count followed by its elements.
import { WeightFileError } from './errors';
import { PickleDict, unpickle } from './pickle';
import { bytesPerElement, type RawTensorMap } from './raw-tensor';
import {
  collectTensors,
  materialiseAll,
  storageFromPersistentId,
  torchPickleGlobals,
  type StorageRef,
} from './torch-pickle';

const MAGIC_NUMBER = 0x1950a86a20f9469cfc6cn;
const PROTOCOL_VERSION = 1001;

/** Whether `bytes` start with a pickle (PROTO) of the legacy magic number (its 10 little-endian bytes). */
export function isLegacyPth(bytes: Uint8Array): boolean {
  const magic = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
  // The number follows PROTO and LONG1 (and, from protocol 4, a FRAME): it ends within the first 26 bytes.
  const head = bytes.subarray(0, 26);
  return bytes[0] === 0x80 && head.findIndex((_, i) => magic.every((b, j) => head[i + j] === b)) >= 0;
}

export function readPthLegacy(bytes: Uint8Array, source: string): RawTensorMap {
  const plain = { source, globals: new Map() };
  const magic = unpickle(bytes, 0, plain);
  if (magic.value !== MAGIC_NUMBER)
    throw new WeightFileError(source, 'does not start with the PyTorch legacy magic number');
  const version = unpickle(bytes, magic.end, plain);
  if (version.value !== PROTOCOL_VERSION) {
    throw new WeightFileError(
      source,
      `is legacy format version ${String(version.value)}; supported: ${PROTOCOL_VERSION}`,
    );
  }
  const sysInfo = unpickle(bytes, version.end, plain);
  if (sysInfo.value instanceof PickleDict && sysInfo.value.entries.get('little_endian') === false) {
    throw new WeightFileError(
      source,
      'was saved on a big-endian machine; only little-endian checkpoints are supported',
    );
  }
  const storages = new Map<string, StorageRef>();
  const main = unpickle(bytes, sysInfo.end, {
    source,
    globals: torchPickleGlobals(),
    persistentLoad: (id) => {
      const storage = storageFromPersistentId(id, source);
      storages.set(storage.key, storage);
      return storage;
    },
  });
  const keys = unpickle(bytes, main.end, plain);
  if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === 'string')) {
    throw new WeightFileError(source, 'has no list of storage keys after its main pickle');
  }
  const data = storageData(bytes, keys.end, keys.value as string[], storages, source);
  return materialiseAll(
    collectTensors(main.value, source),
    (storage) => data.get(storage.key) ?? new Uint8Array(0),
    source,
    bytes.length,
  );
}

/**
 * Slices each storage's elements out of the tail of the file. A cut file yields the storages it still
 * holds, the last one short, so that the tensors that need the rest are the ones named in the error.
 */
function storageData(
  bytes: Uint8Array,
  start: number,
  keys: readonly string[],
  storages: ReadonlyMap<string, StorageRef>,
  source: string,
): Map<string, Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const data = new Map<string, Uint8Array>();
  let position = start;
  for (const key of keys) {
    const storage = storages.get(key);
    if (storage === undefined) throw new WeightFileError(source, `lists storage '${key}', which no tensor references`);
    if (position + 8 > bytes.length) break;
    const count = view.getBigInt64(position, true);
    if (count !== BigInt(storage.numel)) {
      throw new WeightFileError(
        source,
        `has ${count} elements for storage '${key}', its reference says ${storage.numel}`,
      );
    }
    const begin = position + 8;
    position = begin + storage.numel * bytesPerElement(storage.dtype);
    data.set(key, bytes.subarray(begin, Math.min(position, bytes.length)));
  }
  return data;
}
