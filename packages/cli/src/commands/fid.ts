import { describeBackendChoice } from '@qsattn/core';
import { EXIT_OK, InputError, UsageError } from '../io';
import { BACKEND_FLAGS, selectBackendFrom } from '../options/backend-flags';
import { existsSync } from 'node:fs';
import { measureFolder, readStatisticsFile, writeStatisticsFile } from '../run/fid-inputs';
import { FID_OPTIONS, compareSets, fidSettings, formatFidReport, openInception } from '../run/fid-report';
import type { Command } from './command';

export const fidCommand: Command = {
  name: 'fid',
  summary: 'FID and KID between two image folders, as pytorch-fid and torch-fidelity compute them',
  usage: 'DIR_A DIR_B [--dims N] [--inception FILE] [--kid-subsets N] [--kid-subset-size M] [--json] [options]  |  --save-stats DIR OUT.npz',
  description: [
    "The Fréchet Inception Distance of pytorch-fid (its InceptionV3 and weights, images read as RGB and resized by",
    'the network to 299×299, float64 statistics) and the Kernel Inception Distance of torch-fidelity (cubic',
    'polynomial kernel, unbiased MMD² over seeded random subsets; mean ± std) between the images directly in',
    "DIR_A and DIR_B (*.png, *.jpg, …, as pytorch-fid globs them). Either may be an .npz statistics file",
    "(pytorch-fid's --save-stats, or one of ours from the cache). Each folder's features are cached, so comparing",
    "many folders with one reference extracts the reference once. The weights are pytorch-fid's",
    'pt_inception-2015-12-05-6726825d.pth: --inception FILE, or the copy in the cache, downloaded there the first',
    'time (resumable, sha256-checked; --inception-url for a mirror; offline, the error says what to fetch where).',
    "--save-stats DIR OUT.npz writes DIR's statistics (and features, for KID) instead, as pytorch-fid's --save-stats.",
  ].join('\n'),
  options: {
    ...FID_OPTIONS,
    ...BACKEND_FLAGS,
    json: { type: 'boolean', description: 'print one JSON line (fid, kid, kid_std, dims, images, …)' },
    'save-stats': { type: 'boolean', description: 'write the statistics of DIR to OUT.npz (readable by pytorch-fid) instead of comparing' },
  },

  async run({ positionals, values }, io) {
    if (positionals.length !== 2) {
      throw new UsageError(positionals.length < 2 ? 'give two image folders (or .npz statistics files): qsattn fid DIR_A DIR_B' : `unexpected argument '${positionals[2]}'`);
    }
    const settings = fidSettings(values);
    const json = values.json === true;
    const note = (text: string) => io.stderr.write(`${text}\n`);
    const saveStats = values['save-stats'] === true;
    if (saveStats && existsSync(positionals[1])) throw new InputError(`${positionals[1]}: exists already; --save-stats writes a new file`);
    if (saveStats && !positionals[1].toLowerCase().endsWith('.npz')) throw new UsageError(`--save-stats writes an .npz file, got '${positionals[1]}'`);
    const choice = await selectBackendFrom(values);
    (json ? io.stderr : io.stdout).write(`${describeBackendChoice(choice)}\n`);
    if (saveStats) {
      const measure = await openInception(settings, io.stderr, note);
      try {
        const set = await measureFolder(positionals[0], measure);
        await writeStatisticsFile(positionals[1], set, { folder: positionals[0], images: set.statistics.count, dims: settings.dims, weights: measure.weightsPath });
      } finally {
        measure.net.dispose();
      }
      io.stdout.write(json ? `${JSON.stringify({ saved: positionals[1], dims: settings.dims })}\n` : `wrote ${positionals[1]} (${settings.dims} dims)\n`);
      return EXIT_OK;
    }
    const sides = [];
    let measure: Awaited<ReturnType<typeof openInception>> | null = null;
    try {
      for (const path of positionals) {
        if (path.toLowerCase().endsWith('.npz')) {
          sides.push(readStatisticsFile(path, settings.dims));
          continue;
        }
        measure ??= await openInception(settings, io.stderr, note);
        sides.push(await measureFolder(path, measure));
      }
    } finally {
      measure?.net.dispose();
    }
    const report = compareSets(sides[0], sides[1], settings, note);
    io.stdout.write(json ? `${JSON.stringify({ a: positionals[0], b: positionals[1], ...report })}\n` : formatFidReport(report));
    return EXIT_OK;
  },
};
