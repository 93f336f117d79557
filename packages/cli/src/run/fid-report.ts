// FID and KID between two measured sets, the options both qsattn fid and qsattn eval --fid take, and their output.
import {
  FID_DIMS,
  FidInceptionV3,
  SQRTM_DIMS_LIMIT,
  frechetDistance,
  frechetDistanceOfFeatures,
  isFidDims,
  kernelInceptionDistance,
  type FidDims,
  type FrechetMethod,
} from '@qsattn/fid';
import type { OptionSpec, ParsedArgs } from '../commands/command';
import { InputError, UsageError } from '../io';
import { integerValue, stringValue } from '../options/cli-values';
import type { ProgressSink } from '../progress';
import { defaultCacheDir, resolveInceptionWeights, type MeasureOptions, type MeasuredSet } from './fid-inputs';

export const FID_OPTIONS: Record<string, OptionSpec> = {
  dims: { type: 'string', valueName: 'N', choices: FID_DIMS.map(String), default: '2048', description: "Inception features to compare (pytorch-fid's --dims)" },
  inception: { type: 'string', valueName: 'FILE', description: "the FID Inception weights (default: pytorch-fid's pt_inception-2015-12-05-6726825d.pth in the cache, downloaded there the first time)" },
  'inception-url': { type: 'string', valueName: 'URL', description: "where to download the official weights from when they are not cached (a mirror; default pytorch-fid's release)" },
  'kid-subsets': { type: 'string', valueName: 'N', description: "KID subsets (torch-fidelity's kid_subsets, default 100)" },
  'kid-subset-size': { type: 'string', valueName: 'M', description: 'images per KID subset (default 1000, capped at the smaller image count)' },
  'kid-seed': { type: 'string', valueName: 'N', description: "seed of the KID subsets (torch-fidelity's rng_seed, default 2020)" },
  'batch-size': { type: 'string', valueName: 'N', description: 'images per Inception forward pass (default 10)' },
  'cache-dir': { type: 'string', valueName: 'DIR', description: 'where the weights and per-folder statistics are kept (default $QSATTN_CACHE_DIR or ~/.cache/qsattn)' },
  'no-cache': { type: 'boolean', description: 'extract every folder again and keep no statistics' },
};

export interface FidSettings {
  dims: FidDims;
  kid: { subsets: number; subsetSize: number; seed: number };
  batchSize: number;
  cacheDir: string;
  useCache: boolean;
  inception: string | undefined;
  inceptionUrl: string | undefined;
}

/** The FID options of the command line (a bad value is a usage error before anything runs). */
export function fidSettings(values: ParsedArgs['values'], batchSizeOption = 'batch-size'): FidSettings {
  const dims = Number(stringValue(values, 'dims') ?? 2048);
  if (!isFidDims(dims)) throw new UsageError(`option --dims must be one of ${FID_DIMS.join(', ')}`);
  return {
    dims,
    kid: {
      subsets: integerValue(values, 'kid-subsets', 1) ?? 100,
      subsetSize: integerValue(values, 'kid-subset-size', 2) ?? 1000,
      seed: integerValue(values, 'kid-seed', 0) ?? 2020,
    },
    batchSize: integerValue(values, batchSizeOption, 1) ?? 10,
    cacheDir: stringValue(values, 'cache-dir') ?? defaultCacheDir(),
    useCache: values['no-cache'] !== true,
    inception: stringValue(values, 'inception'),
    inceptionUrl: stringValue(values, 'inception-url'),
  };
}

/** Loads the network the settings name and returns what measureFolder / measureImages need. */
export async function openInception(settings: FidSettings, progress: ProgressSink, message: (text: string) => void): Promise<MeasureOptions> {
  const weightsPath = await resolveInceptionWeights(settings.inception, settings.cacheDir, {
    progress,
    ...(settings.inceptionUrl === undefined ? {} : { url: settings.inceptionUrl }),
  });
  let net: FidInceptionV3;
  try {
    net = await FidInceptionV3.load(weightsPath);
  } catch (error) {
    throw new InputError((error as Error).message);
  }
  return {
    net,
    dims: settings.dims,
    batchSize: settings.batchSize,
    weightsPath,
    cacheDir: settings.useCache ? settings.cacheDir : null,
    progress,
    message,
  };
}

export interface FidReport {
  fid: number | null;
  kid: number | null;
  kid_std: number | null;
  dims: FidDims;
  images: [number, number];
  kid_subsets: number | null;
  kid_subset_size: number | null;
  /** How Tr √(Σ₁Σ₂) was taken (see frechetDistanceOfFeatures). */
  method: FrechetMethod;
  /** pytorch-fid's eps retry was needed. */
  eps_retry: boolean;
}

/** FID (and KID when both sides have features) between two measured sets. */
export function compareSets(a: MeasuredSet, b: MeasuredSet, settings: FidSettings, message: (text: string) => void): FidReport {
  const dims = settings.dims;
  const na = a.statistics.count;
  const nb = b.statistics.count;
  const onWarning = (text: string) => message(`warning: ${text}`);
  let result;
  const lowRank = a.features !== null && b.features !== null && Math.min(na, nb) < dims;
  if (dims > SQRTM_DIMS_LIMIT && !lowRank) message(`taking the square root of the ${dims}×${dims} covariance product: this takes minutes`);
  if (a.features !== null && b.features !== null) {
    result = frechetDistanceOfFeatures(a.features, na, b.features, nb, dims, { onWarning });
  } else {
    result = { ...frechetDistance(a.statistics, b.statistics, { onWarning }), method: 'sqrtm' as const };
  }
  let kid = null;
  if (a.features !== null && b.features !== null) {
    kid = kernelInceptionDistance(a.features, na, b.features, nb, dims, settings.kid);
  } else {
    message(`no KID: ${a.features === null ? a.label : b.label} holds statistics without features`);
  }
  return {
    fid: Number.isFinite(result.fid) ? result.fid : null,
    kid: kid?.mean ?? null,
    kid_std: kid?.std ?? null,
    dims,
    images: [na, nb],
    kid_subsets: kid?.subsets ?? null,
    kid_subset_size: kid?.subsetSize ?? null,
    method: result.method,
    eps_retry: result.retried,
  };
}

export function formatFidReport(r: FidReport): string {
  const fid = r.fid === null ? 'undefined (no square root of the covariance product, even with the eps offset)' : r.fid.toFixed(6);
  const lines = [`FID ${fid}  (${r.dims} dims, ${r.images[0]} vs ${r.images[1]} images)`];
  if (r.kid !== null) lines.push(`KID ${r.kid.toPrecision(6)} ± ${r.kid_std!.toPrecision(4)}  (${r.kid_subsets} subset${r.kid_subsets === 1 ? '' : 's'} of ${r.kid_subset_size})`);
  return `${lines.join('\n')}\n`;
}
