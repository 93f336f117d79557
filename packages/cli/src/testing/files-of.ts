import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Test-only: every file under a folder, by relative path, with its bytes (to compare result folders byte for byte). */
export function filesOf(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (sub: string): void => {
    for (const entry of readdirSync(join(dir, sub))) {
      const rel = join(sub, entry);
      if (statSync(join(dir, rel)).isDirectory()) walk(rel);
      else files.set(rel, readFileSync(join(dir, rel)));
    }
  };
  walk('');
  return files;
}
