import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { loadStateDict, saveSafetensors } from '@qsattn/core';
import { CutModel } from '@qsattn/cut-model';
import { readInputFile } from '../fixture-file';
import { EXIT_OK, InputError, UsageError } from '../io';
import { BACKEND_FLAGS, selectBackendFrom } from '../options/backend-flags';
import { integerValue, stringValue } from '../options/cli-values';
import { MODEL_FLAGS, parseOfficialFlags } from '../options/model-flags';
import { resolveModel } from '../options/run-options';
import { generatorShape } from '../run/generator-file';
import { saveRunCheckpoint } from '../run/run-checkpoint';
import type { Command } from './command';

const FORMATS = ['checkpoint', 'safetensors'];
const NETS = ['G', 'D', 'F'] as const;

/** The official files of one epoch: `<prefix>net_G.pth` and, when present beside it, `net_D` and `net_F`. */
function officialFiles(path: string): Partial<Record<(typeof NETS)[number], string>> {
  const match = /^(.*)net_G(\.[^./\\]+)$/.exec(path);
  if (match === null) return { G: path };
  const [, prefix, ext] = match;
  const files: Partial<Record<(typeof NETS)[number], string>> = {};
  for (const net of NETS) if (existsSync(`${prefix}net_${net}${ext}`)) files[net] = `${prefix}net_${net}${ext}`;
  return files;
}

async function readState(path: string): Promise<tf.NamedTensorMap> {
  const bytes = readInputFile(path);
  try {
    return await loadStateDict(bytes, { name: path });
  } catch (err) {
    throw new InputError((err as Error).message.split('\n')[0]);
  }
}

export const convertCommand: Command = {
  name: 'convert',
  summary: 'convert official .pth weights to a qsattn checkpoint or to safetensors',
  usage: 'EPOCH_net_G.pth [--to checkpoint|safetensors] [--out FILE] [official model options]',
  description: [
    'Reads an official generator (EPOCH_net_G.pth) and, when they are beside it, its EPOCH_net_D.pth and',
    'EPOCH_net_F.pth.',
    '--to checkpoint (default): one qsattn checkpoint (EPOCH_checkpoint.safetensors beside the input, or --out)',
    'that qsattn test and eval read and qsattn train --resume continues (put it in a run folder as',
    'latest_checkpoint.safetensors with an options.json); networks not given are initialised from --seed.',
    'The architecture comes from the weights\' shapes and the official options given.',
    '--to safetensors: each .pth as a safetensors file of the same tensors and names (EPOCH_net_G.safetensors).',
  ].join('\n'),
  options: {
    to: { type: 'string', valueName: 'FORMAT', choices: FORMATS, default: 'checkpoint', description: 'what to write' },
    out: { type: 'string', valueName: 'FILE', description: 'the output file (checkpoint only)' },
    seed: { type: 'string', valueName: 'N', description: 'seed for the networks not in the input (default 0)' },
    ...BACKEND_FLAGS,
    ...MODEL_FLAGS,
  },

  async run({ positionals, values }, io) {
    if (positionals.length !== 1) throw new UsageError(`give one official weight file (e.g. latest_net_G.pth), got ${positionals.length}`);
    const [input] = positionals;
    const to = stringValue(values, 'to') ?? 'checkpoint';
    const out = stringValue(values, 'out');
    const flags = parseOfficialFlags(values).model;
    const seed = integerValue(values, 'seed', 0) ?? 0;
    readInputFile(input);
    const files = officialFiles(input);
    await selectBackendFrom(values);
    const states: Partial<Record<(typeof NETS)[number], tf.NamedTensorMap>> = {};
    try {
      for (const net of NETS) if (files[net] !== undefined) states[net] = await readState(files[net]!);
      if (to === 'safetensors') {
        if (out !== undefined && Object.keys(files).length > 1) throw new UsageError('--out names one file, but --to safetensors writes one per network: drop --out');
        for (const net of NETS) {
          if (files[net] === undefined) continue;
          const path = out ?? files[net]!.replace(/\.[^./\\]+$/, '') + '.safetensors';
          await saveSafetensors(path, states[net]!);
          io.stdout.write(`wrote ${path} (${Object.keys(states[net]!).length} tensors)\n`);
        }
        return EXIT_OK;
      }
      const options = resolveModel(generatorShape(states.G ?? {}), flags);
      const model = new CutModel(options, { seed });
      try {
        try {
          model.loadTorch(states, input);
        } catch (err) {
          throw new InputError((err as Error).message.split('\n')[0]);
        }
        const stem = input.replace(/\.[^./\\]+$/, '');
        const target = out ?? `${/net_G$/.test(stem) ? stem.replace(/net_G$/, 'checkpoint') : `${stem}_checkpoint`}.safetensors`;
        await saveRunCheckpoint(target, model, null);
        const converted = NETS.filter((net) => files[net] !== undefined).join(', ');
        io.stdout.write(`wrote ${target}: ${converted} from ${input} (ngf ${options.ngf}, ${options.netG}, QS ${options.qsMode ?? 'none'})\n`);
      } finally {
        model.dispose();
      }
      return EXIT_OK;
    } finally {
      for (const state of Object.values(states)) tf.dispose(Object.values(state));
    }
  },
};
