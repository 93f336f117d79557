#!/usr/bin/env node
// Makes the docs' in-browser translation model: the generator of a qsattn train run, alone, as a safetensors
// state dict (PyTorch names and layout) with the run's model options in its metadata.
//
//   npx qsattn train --name docs-synth --checkpoints_dir /tmp/docs-model --nce_layers 0,4,8,12,16   # synth-quick as it was then, 900 steps
//   node scripts/docs-model.mjs /tmp/docs-model/docs-synth/latest_checkpoint.safetensors
//
// writes docs/public/models/synth-quick/generator.safetensors (about 1 MB for synth-quick).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensors, writeSafetensors } from '@qsattn/core';
import { readCheckpointInfo } from '@qsattn/cut-model';

const [checkpoint, out = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'public', 'models', 'synth-quick', 'generator.safetensors')] = process.argv.slice(2);
if (checkpoint === undefined) {
  console.error('usage: node scripts/docs-model.mjs RUN/latest_checkpoint.safetensors [OUT.safetensors]');
  process.exit(2);
}
const bytes = readFileSync(checkpoint);
const info = await readCheckpointInfo(bytes, checkpoint);
const { tensors } = readSafetensors(bytes, checkpoint);
const generator = Object.fromEntries(Object.entries(tensors).filter(([name]) => name.startsWith('G.')).map(([name, t]) => [name.slice(2), t]));
if (Object.keys(generator).length === 0) {
  console.error(`${checkpoint}: no generator tensors (G.*) in this checkpoint`);
  process.exit(1);
}
const metadata = { format: 'qsattn-generator/1', options: JSON.stringify(info.options), step: String(info.step), source: 'qsattn train --preset synth-quick (built-in dataset)' };
mkdirSync(dirname(out), { recursive: true });
const file = writeSafetensors(generator, metadata, out);
writeFileSync(out, file);
console.log(`wrote ${out}: ${Object.keys(generator).length} tensors, ${(file.length / 1e6).toFixed(2)} MB, step ${info.step}`);
