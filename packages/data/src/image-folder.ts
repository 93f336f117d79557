import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { IMAGE_EXTENSIONS } from './decode';
import { DatasetError } from './errors';

function isImageFile(name: string): boolean {
  return (IMAGE_EXTENSIONS as readonly string[]).includes(extname(name).toLowerCase());
}

/**
 * The image files under `dir` and its sub-folders (links followed), sorted by path as the official
 * `sorted(make_dataset(dir))` sorts them. Throws when the folder is missing or holds no images.
 */
export async function listImageFiles(dir: string): Promise<string[]> {
  let info;
  try {
    info = await stat(dir);
  } catch {
    throw new DatasetError(
      'missing-folder',
      dir,
      'folder not found; point dataroot at a folder holding trainA/ trainB/ (testA/ testB/ for testing), or pass dirA and dirB',
    );
  }
  if (!info.isDirectory()) {
    throw new DatasetError('missing-folder', dir, 'is a file, not a folder; pass the folder that holds the images');
  }
  const images: string[] = [];
  const others = new Set<string>();
  await walk(dir, images, others, new Set());
  if (images.length === 0) {
    const found = others.size > 0 ? ` (other files found: ${[...others].sort().join(', ')})` : '';
    throw new DatasetError(
      'empty-folder',
      dir,
      `no PNG, JPEG or WebP images${found}; add images to it or convert them to PNG`,
    );
  }
  // Code-point order, as Python's sorted() on str.
  return images.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

async function walk(dir: string, images: string[], others: Set<string>, seen: Set<string>): Promise<void> {
  const { dev, ino } = await stat(dir);
  const key = `${dev}:${ino}`;
  if (seen.has(key)) return; // a link back to a folder already walked
  seen.add(key);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    let isDir = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      const target = await stat(path).catch(() => null);
      isDir = target?.isDirectory() ?? false;
      isFile = target?.isFile() ?? true; // a dangling link is reported when it is read
    }
    if (isDir) await walk(path, images, others, seen);
    else if (isFile && isImageFile(entry.name)) images.push(path);
    else if (isFile) others.add(extname(entry.name).toLowerCase() || entry.name);
  }
}
