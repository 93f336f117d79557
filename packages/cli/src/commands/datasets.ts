import { writeSynthDataset } from '@qsattn/data';
import { EXIT_OK, UsageError } from '../io';
import { integerValue, stringValue } from '../options/cli-values';
import { SYNTH_SEED, SYNTH_TEST_COUNT, SYNTH_TRAIN_COUNT } from '../options/run-options';
import type { Command } from './command';

const DATASETS = ['synth'];

export const datasetsCommand: Command = {
  name: 'datasets',
  summary: 'write a built-in dataset to disk in the official layout',
  usage: 'synth --out DIR [--size N] [--train-count N] [--test-count N] [--seed N]',
  description: [
    'synth: the built-in synthetic dataset (brown objects on grass → the same objects in zebra stripes), as',
    'DIR/trainA, trainB, testA, testB and testA_target (the ground-truth translation of each testA image), plus',
    'synth.json. qsattn train --dataroot DIR trains on it; qsattn eval --dataroot DIR scores on it.',
  ].join('\n'),
  options: {
    out: { type: 'string', valueName: 'DIR', description: 'the folder to write' },
    size: { type: 'string', valueName: 'N', description: 'image side in pixels (default 64)' },
    'train-count': { type: 'string', valueName: 'N', description: `images per training domain (default ${SYNTH_TRAIN_COUNT})` },
    'test-count': { type: 'string', valueName: 'N', description: `images per test domain (default ${SYNTH_TEST_COUNT})` },
    seed: { type: 'string', valueName: 'N', description: `seed of the scenes (default ${SYNTH_SEED})` },
  },

  async run({ positionals, values }, io) {
    const [dataset, ...rest] = positionals;
    if (dataset === undefined) throw new UsageError(`give the dataset to write: one of ${DATASETS.join(', ')}`);
    if (!DATASETS.includes(dataset)) throw new UsageError(`unknown dataset '${dataset}': choose one of ${DATASETS.join(', ')}`);
    if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
    const out = stringValue(values, 'out');
    if (out === undefined) throw new UsageError('option --out DIR is required: the folder to write the dataset to');
    const result = await writeSynthDataset(out, {
      size: integerValue(values, 'size', 16) ?? 64,
      trainCount: integerValue(values, 'train-count', 1) ?? SYNTH_TRAIN_COUNT,
      testCount: integerValue(values, 'test-count', 1) ?? SYNTH_TEST_COUNT,
      seed: integerValue(values, 'seed', 0) ?? SYNTH_SEED,
    });
    const counts = Object.entries(result.counts).map(([folder, n]) => `${folder} ${n}`).join(', ');
    io.stdout.write(`wrote ${out}: ${counts} (${result.options.size} px, seed ${result.options.seed})\n`);
    return EXIT_OK;
  },
};
