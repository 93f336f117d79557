import { join } from 'node:path';
import {
  DATASET_CATALOG,
  DownloadError,
  datasetUrl,
  downloadDataset,
  findDataset,
  manualSteps,
  writeSynthDataset,
  type CatalogDataset,
} from '@qsattn/data';
import { DownloadProgressBar } from '../download-progress';
import { alignColumns } from '../format-table';
import { EXIT_FAILURE, EXIT_OK, InputError, UsageError, type CliIo } from '../io';
import { integerValue, stringValue } from '../options/cli-values';
import { SYNTH_SEED, SYNTH_TEST_COUNT, SYNTH_TRAIN_COUNT } from '../options/run-options';
import type { ProgressSink } from '../progress';
import { defaultCacheDir } from '../run/fid-inputs';
import type { Command, ParsedArgs } from './command';

const SUBCOMMANDS = ['synth', 'download', 'list'] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

/** The options each subcommand takes; any other given option is a usage error. */
const OPTIONS_OF: Record<Subcommand, readonly string[]> = {
  synth: ['out', 'size', 'train-count', 'test-count', 'seed'],
  download: ['out', 'url', 'file', 'force', 'keep-zip', 'cache-dir'],
  list: [],
};

/** Where `datasets download` puts NAME/ without --out, as the official scripts do. */
const DEFAULT_DOWNLOAD_DIR = 'datasets';

export const datasetsCommand: Command = {
  name: 'datasets',
  summary: 'download a real dataset, list them, or write the built-in synthetic one, in the official layout',
  usage: [
    'download NAME [--out DIR] [--url MIRROR] [--file ZIP] [--force] [--keep-zip]',
    '       qsattn datasets list',
    '       qsattn datasets synth --out DIR [--size N] [--train-count N] [--test-count N] [--seed N]',
  ].join('\n'),
  description: [
    'download NAME: fetches NAME.zip from the CycleGAN dataset server (the URLs of the official CUT and CycleGAN',
    `download scripts) and lays it out as DIR/NAME/trainA, trainB, testA, testB (DIR defaults to ./${DEFAULT_DOWNLOAD_DIR}), which`,
    'qsattn train --dataroot DIR/NAME reads. The transfer shows bytes, rate and ETA, resumes a partial DIR/NAME.zip.part',
    "after an interruption, and retries on transient errors. The first complete download's sha256 is recorded in",
    'CACHE/downloads.json and later downloads must match it. The zip is extracted safely (entries that leave the',
    'folder, links and compression bombs are refused) into a temporary folder that is renamed into place. Proxies come',
    'from HTTP_PROXY, HTTPS_PROXY and NO_PROXY.',
    'list: the datasets, their sizes and how to get them (cat2dog and cityscapes_full need a manual step).',
    'synth: the built-in synthetic dataset (brown objects on grass → the same objects in zebra stripes), as',
    'DIR/trainA, trainB, testA, testB and testA_target (the ground-truth translation of each testA image), plus',
    'synth.json. qsattn train --dataroot DIR trains on it; qsattn eval --dataroot DIR scores on it.',
  ].join('\n'),
  options: {
    out: { type: 'string', valueName: 'DIR', description: `the folder to write (download: the folder that gets NAME/, default ./${DEFAULT_DOWNLOAD_DIR})` },
    url: { type: 'string', valueName: 'MIRROR', description: 'download: a mirror, either a folder address (NAME.zip is appended) or the .zip address' },
    file: { type: 'string', valueName: 'ZIP', description: 'download: lay out a zip already on disk instead of downloading (e.g. afhq.zip for cat2dog)' },
    force: { type: 'boolean', description: 'download: replace an existing DIR/NAME (once the new one is complete)' },
    'keep-zip': { type: 'boolean', description: 'download: keep DIR/NAME.zip after extracting it' },
    'cache-dir': { type: 'string', valueName: 'DIR', description: 'download: where the sha256 records are kept (default $QSATTN_CACHE_DIR, else ~/.cache/qsattn)' },
    size: { type: 'string', valueName: 'N', description: 'synth: image side in pixels (default 64)' },
    'train-count': { type: 'string', valueName: 'N', description: `synth: images per training domain (default ${SYNTH_TRAIN_COUNT})` },
    'test-count': { type: 'string', valueName: 'N', description: `synth: images per test domain (default ${SYNTH_TEST_COUNT})` },
    seed: { type: 'string', valueName: 'N', description: `synth: seed of the scenes (default ${SYNTH_SEED})` },
  },

  async run(args, io) {
    const [sub, ...rest] = args.positionals;
    if (sub === undefined) throw new UsageError(`give what to do: one of ${SUBCOMMANDS.join(', ')}`);
    if (!(SUBCOMMANDS as readonly string[]).includes(sub)) throw new UsageError(`unknown subcommand '${sub}': choose one of ${SUBCOMMANDS.join(', ')}`);
    const subcommand = sub as Subcommand;
    for (const [name, value] of Object.entries(args.values)) {
      if (value !== undefined && name !== 'help' && !OPTIONS_OF[subcommand].includes(name)) {
        throw new UsageError(`option --${name} does not apply to 'datasets ${subcommand}'${OPTIONS_OF[subcommand].length > 0 ? `: it takes ${OPTIONS_OF[subcommand].map((o) => `--${o}`).join(', ')}` : ''}`);
      }
    }
    if (subcommand === 'synth') return synth(rest, args.values, io);
    if (subcommand === 'list') {
      if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
      io.stdout.write(formatCatalog());
      return EXIT_OK;
    }
    return downloadCommand(rest, args.values, io);
  },
};

async function synth(rest: string[], values: ParsedArgs['values'], io: CliIo): Promise<number> {
  if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
  const out = stringValue(values, 'out');
  if (out === undefined) throw new UsageError('option --out DIR is required: the folder to write the dataset to');
  const result = await writeSynthDataset(out, {
    size: integerValue(values, 'size', 16) ?? 64,
    trainCount: integerValue(values, 'train-count', 1) ?? SYNTH_TRAIN_COUNT,
    testCount: integerValue(values, 'test-count', 1) ?? SYNTH_TEST_COUNT,
    seed: integerValue(values, 'seed', 0) ?? SYNTH_SEED,
  });
  const counts = Object.entries(result.counts)
    .map(([folder, n]) => `${folder} ${n}`)
    .join(', ');
  io.stdout.write(`wrote ${out}: ${counts} (${result.options.size} px, seed ${result.options.seed})\n`);
  return EXIT_OK;
}

function sizeText(entry: CatalogDataset): string {
  if (entry.approxMiB === undefined) return '?';
  return entry.approxMiB >= 1024 ? `${(entry.approxMiB / 1024).toFixed(1)} GiB` : `${entry.approxMiB} MiB`;
}

/** `qsattn datasets list`: name, zip size, how to get it, what it is. */
export function formatCatalog(): string {
  const rows = [['NAME', 'ZIP', 'GET', 'DOMAINS'], ...DATASET_CATALOG.map((d) => [d.name, sizeText(d), d.kind === 'download' ? 'download' : 'manual', d.description])];
  return [
    ...alignColumns(rows, new Set([1])),
    '',
    `Sizes are the zip files' as the server lists them (≈, '?' where not known); extracted, a dataset takes about as much again.`,
    `qsattn datasets download NAME fetches ${datasetUrl('NAME')}; qsattn datasets download cat2dog (or cityscapes_full) says what to fetch by hand.`,
    '',
  ].join('\n');
}

async function downloadCommand(rest: string[], values: ParsedArgs['values'], io: CliIo): Promise<number> {
  const [name, ...extra] = rest;
  if (name === undefined) throw new UsageError(`give the dataset to download: one of ${DATASET_CATALOG.map((d) => d.name).join(', ')} (qsattn datasets list)`);
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}': download one dataset at a time`);
  const entry = findDataset(name);
  if (entry === undefined) throw new UsageError(`unknown dataset '${name}': choose one of ${DATASET_CATALOG.map((d) => d.name).join(', ')} (qsattn datasets list)`);
  const outDir = stringValue(values, 'out') ?? DEFAULT_DOWNLOAD_DIR;
  const url = stringValue(values, 'url');
  const file = stringValue(values, 'file');
  if (url !== undefined && file !== undefined) throw new UsageError('give --url or --file, not both');
  if (entry.kind === 'manual' && url === undefined && (file === undefined || entry.archive === undefined)) {
    io.stderr.write(`${name} needs a manual step (${entry.description}):\n${manualSteps(entry, outDir).map((line) => `  ${line}\n`).join('')}`);
    return EXIT_FAILURE;
  }
  const cacheDir = stringValue(values, 'cache-dir') ?? defaultCacheDir();
  const header = file === undefined ? `downloading ${name} from ${datasetUrl(name, url)}` : undefined;
  const bar = new DownloadProgressBar(io.stderr as ProgressSink, name, header);
  // Ctrl-C stops cleanly: the part file keeps what arrived (the next run continues it), a started extraction is removed.
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  process.once('SIGINT', onInterrupt);
  try {
    const result = await downloadDataset(name, {
      signal: controller.signal,
      outDir,
      ...(url === undefined ? {} : { url }),
      ...(file === undefined ? {} : { file }),
      force: values.force === true,
      keepZip: values['keep-zip'] === true,
      recordsPath: join(cacheDir, 'downloads.json'),
      onDownloadProgress: (p) => bar.download(p),
      onExtractProgress: (p) => bar.extract(p),
      onRetry: (r) => bar.message(`${name}: ${r.reason}; retrying in ${(r.delayMs / 1000).toFixed(1)} s (attempt ${r.attempt + 1})`),
    });
    bar.finish();
    const counts = Object.entries(result.counts)
      .map(([folder, n]) => `${folder} ${n}`)
      .join(', ');
    const check =
      result.zip.check === 'recorded'
        ? `sha256 ${result.zip.sha256} recorded in ${join(cacheDir, 'downloads.json')}`
        : result.zip.check === 'verified'
          ? `sha256 ${result.zip.sha256} matches the first download`
          : `from ${result.zip.path}`;
    io.stdout.write(`wrote ${result.path}: ${counts} images (${check})\n`);
    io.stdout.write(`train on it: qsattn train --dataroot ${result.path} --name ${name}\n`);
    return EXIT_OK;
  } catch (err) {
    bar.finish();
    if (err instanceof DownloadError) throw new InputError(err.message, { cause: err });
    throw err;
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}
