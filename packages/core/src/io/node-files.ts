// File access for Node. `node:` modules are imported on first use, and bundlers are told to leave those
// imports alone, so that browser bundles of the package neither include nor load them (the loaders fetch
// URLs there instead).
import { WeightFileError } from './errors';

// The names are held in variables: a bundler resolves a literal `import('node:fs/promises')` and fails for the
// browser (esbuild: "Could not resolve"), but leaves a computed one alone.
const NODE_FS = 'node:fs/promises';
const NODE_PATH = 'node:path';

export function nodeFs(): Promise<typeof import('node:fs/promises')> {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ NODE_FS);
}

export function nodePath(): Promise<typeof import('node:path')> {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ NODE_PATH);
}

export function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

export async function readFileBytes(path: string): Promise<Uint8Array> {
  const fs = await nodeFs();
  try {
    return await fs.readFile(path);
  } catch (e) {
    throw new WeightFileError(path, `cannot be read (${(e as Error).message})`);
  }
}

/**
 * Writes `data` to a temporary file in the same directory, flushes it to disk and renames it over `path`:
 * the rename is atomic, so a crash leaves either the old file or the new one, never a partial one.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const fs = await nodeFs();
  const { basename, dirname, join } = await nodePath();
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    const handle = await fs.open(temporary, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temporary, path);
  } catch (e) {
    await fs.rm(temporary, { force: true });
    throw new WeightFileError(path, `cannot be written (${(e as Error).message})`);
  }
}
