// PyTorch's zip checkpoint format (torch.save since 1.6): `<prefix>/data.pkl` pickles the object, and each
// storage it references is the raw entry `<prefix>/data/<key>`; `<prefix>/byteorder` (since 2.x) says how the
// storages are laid out, little-endian when absent.
import { WeightFileError } from './errors';
import { unpickle } from './pickle';
import type { RawTensorMap } from './raw-tensor';
import { collectTensors, materialiseAll, storageFromPersistentId, torchPickleGlobals } from './torch-pickle';
import { readZip, type ZipArchive } from './zip';

export function readPthZip(bytes: Uint8Array, source: string): RawTensorMap {
  const archive = readZip(bytes, source);
  const prefix = archivePrefix(archive);
  checkByteOrder(archive, prefix);
  const { value } = unpickle(archive.read(`${prefix}data.pkl`), 0, {
    source,
    globals: torchPickleGlobals(),
    persistentLoad: (id) => storageFromPersistentId(id, source),
  });
  const tensors = materialiseAll(
    collectTensors(value, source),
    (storage) => {
      const entry = `${prefix}data/${storage.key}`;
      if (!archive.entries.has(entry)) {
        throw new WeightFileError(
          source,
          `references storage '${storage.key}', but the archive has no entry '${entry}'${
            archive.complete ? '' : ' (file truncated?)'
          }`,
        );
      }
      return archive.read(entry);
    },
    source,
    bytes.length,
  );
  if (!archive.complete) {
    throw new WeightFileError(
      source,
      'is a zip without its central directory: the file is cut short (truncated download or copy?)',
    );
  }
  return tensors;
}

/** The folder holding `data.pkl`: torch names it after the file it first saved to, so it varies. */
function archivePrefix(archive: ZipArchive): string {
  const pickles = [...archive.entries.keys()].filter((name) => /^[^/]+\/data\.pkl$/.test(name));
  if (pickles.length !== 1) {
    const found = pickles.length === 0 ? 'none' : pickles.join(', ');
    throw new WeightFileError(
      archive.source,
      `is a zip but not a PyTorch checkpoint: it needs one '<folder>/data.pkl' entry, found ${found}`,
    );
  }
  return pickles[0].slice(0, -'data.pkl'.length);
}

function checkByteOrder(archive: ZipArchive, prefix: string): void {
  const entry = `${prefix}byteorder`;
  if (!archive.entries.has(entry)) return;
  const order = new TextDecoder().decode(archive.read(entry)).trim();
  if (order === 'little') return;
  if (order === 'big') {
    throw new WeightFileError(
      archive.source,
      'stores big-endian tensors (byteorder "big"); only little-endian checkpoints are supported',
    );
  }
  throw new WeightFileError(archive.source, `has byteorder "${order}"; expected "little" or "big"`);
}
