#!/usr/bin/env node
// Puts the standalone example pages into the built docs site: examples/train-in-browser/dist (built by that
// workspace's `npm run build`, which `npm run build` at the root runs) → docs/.vitepress/dist/train-in-browser/.
import { cpSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(root, 'examples', 'train-in-browser', 'dist');
if (!existsSync(join(from, 'index.html'))) {
  console.error(`${from} is not built: run npm run build first`);
  process.exit(1);
}
cpSync(from, join(root, 'docs', '.vitepress', 'dist', 'train-in-browser'), { recursive: true });
console.log('included examples/train-in-browser in the docs site');
