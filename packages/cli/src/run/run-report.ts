// The run report, checkpoints/NAME/web/index.html: curves from log.jsonl, image grids and selection maps at
// the run's checkpoints, options and timings. Rewritten atomically as training goes; `qsattn report` rebuilds
// it from the folder alone. Kept lean: inline SVG and small PNGs, no script copied into the run.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { ModelOptions, ResnetGenerator } from '@qsattn/cut-model';
import type { ByteImage } from '@qsattn/data';
import { curvesSvg, parseRunLog, reportPage, stepEntries, type EvalEntry, type ReportSnapshot, type RunLogEntry, type RunStatus, type StartEntry } from '@qsattn/viz';
import { gridPng } from '@qsattn/viz/node';
import { formatDuration } from '../progress';
import type { SavedRunOptions } from '../options/run-options';
import { writeFileAtomic } from '../write-file';
import { explainImage, explainMode, type LayerMaps } from './explain';
import type { RunFolder } from './run-folder';
import { SCORE_NAMES, translateImage, type Scores } from './translate-images';

/** The fixed images every snapshot shows: the first of each training domain, at the crop size. */
export interface SnapshotSamples {
  A: ByteImage;
  B: ByteImage;
}

export interface Snapshot {
  record: ReportSnapshot;
  grid: Buffer;
  layers: LayerMaps[];
}

const SNAPSHOTS_FILE = 'snapshots.json';

/** Translates the samples and reads what the QS layers select: the pictures of one moment of the run. */
export async function takeSnapshot(netG: ResnetGenerator, options: ModelOptions, samples: SnapshotSamples): Promise<{ grid: Buffer; layers: LayerMaps[] }> {
  const translator = { translate: (x: tf.Tensor4D) => netG.translate(x) };
  const fakeB = await translateImage(translator, samples.A);
  const idtB = options.nceIdt ? await translateImage(translator, samples.B) : null;
  const grid = await gridPng(['real_A', 'fake_B', 'real_B', 'idt_B'], [{ images: [samples.A, fakeB, samples.B, idtB] }]);
  return { grid, layers: await explainImage(netG, samples.A, options) };
}

/** Writes the run report of one run folder, and the snapshot images it links to. */
export class RunReport {
  readonly webDir: string;
  private snapshots: ReportSnapshot[];

  constructor(
    readonly folder: RunFolder,
    readonly saved: SavedRunOptions,
  ) {
    this.webDir = join(folder.dir, 'web');
    this.snapshots = this.readSnapshots();
  }

  get pagePath(): string {
    return join(this.webDir, 'index.html');
  }

  private readSnapshots(): ReportSnapshot[] {
    const path = join(this.webDir, SNAPSHOTS_FILE);
    if (!existsSync(path)) return [];
    try {
      const list = JSON.parse(readFileSync(path, 'utf8')) as ReportSnapshot[];
      // Only snapshots whose images are still there.
      return Array.isArray(list) ? list.filter((s) => existsSync(join(this.webDir, s.grid))) : [];
    } catch {
      return [];
    }
  }

  /** Forgets snapshots after `step` (a resumed run retakes them), as the log is truncated. */
  truncate(step: number): void {
    this.snapshots = this.snapshots.filter((s) => s.step <= step);
  }

  /**
   * Takes and stores a snapshot named `key` (`latest`, `epoch_4`): its images under web/images/, its entry in
   * web/snapshots.json (a snapshot of the same name is replaced).
   */
  async addSnapshot(netG: ResnetGenerator, samples: SnapshotSamples, key: string, label: string, epoch: number, step: number, taken?: { grid: Buffer; layers: LayerMaps[] }): Promise<Snapshot> {
    const { grid, layers } = taken ?? (await takeSnapshot(netG, this.saved.model, samples));
    mkdirSync(join(this.webDir, 'images'), { recursive: true });
    const file = (part: string): string => join('images', `${key}_${part}.png`);
    await writeFileAtomic(join(this.webDir, file('grid')), grid);
    const maps = [];
    for (const l of layers) {
      await writeFileAtomic(join(this.webDir, file(`layer${l.tap}_entropy`)), l.entropyPng);
      await writeFileAtomic(join(this.webDir, file(`layer${l.tap}_attention`)), l.attentionPng);
      maps.push({
        layer: `layer ${l.tap}`,
        mode: explainMode(this.saved.model) + (this.saved.model.qsMode === null ? ' (CUT: not used in training)' : ''),
        numQueries: l.map.selected.length,
        query: l.map.query,
        entropy: file(`layer${l.tap}_entropy`),
        attention: file(`layer${l.tap}_attention`),
        extent: l.extent,
      });
    }
    const record: ReportSnapshot = { epoch, step, label, grid: file('grid'), maps };
    this.snapshots = [...this.snapshots.filter((s) => s.grid !== record.grid), record].sort((a, b) => b.step - a.step || (a.label === 'latest' ? 1 : -1));
    // A `latest` no newer than a numbered snapshot shows the same thing twice.
    this.snapshots = this.snapshots.filter((s) => s.label !== 'latest' || !this.snapshots.some((o) => o !== s && o.step >= s.step));
    await writeFileAtomic(join(this.webDir, SNAPSHOTS_FILE), `${JSON.stringify(this.snapshots, null, 1)}\n`);
    return { record, grid, layers };
  }

  /** Rewrites web/index.html from options, log and snapshots. */
  async write(status: RunStatus, statusNote?: string): Promise<void> {
    mkdirSync(this.webDir, { recursive: true });
    const log = existsSync(this.folder.logPath) ? parseRunLog(readFileSync(this.folder.logPath, 'utf8')).entries : [];
    const steps = stepEntries(log);
    const page = reportPage({
      title: `qsattn run ${this.saved.run.name}`,
      status,
      statusNote,
      updated: new Date(),
      progress: progressOf(log),
      curvesSvg: await curvesSvg(steps),
      facts: factsOf(log, this.saved, status),
      scores: scoresOf(log),
      options: this.saved,
      snapshots: this.snapshots,
      refreshSeconds: 30,
    });
    await writeFileAtomic(this.pagePath, page);
  }
}

function lastOf<K extends RunLogEntry['event']>(log: readonly RunLogEntry[], event: K): Extract<RunLogEntry, { event: K }> | undefined {
  for (let i = log.length - 1; i >= 0; i--) if (log[i].event === event) return log[i] as Extract<RunLogEntry, { event: K }>;
  return undefined;
}

function progressOf(log: readonly RunLogEntry[]): { step: number; totalSteps: number; epoch?: number } {
  const start = lastOf(log, 'start') as StartEntry | undefined;
  const last = log.length === 0 ? undefined : log[log.length - 1];
  const step = lastOf(log, 'step');
  return { step: last?.step ?? 0, totalSteps: start?.totalSteps ?? 0, epoch: step?.epoch };
}

const median = (values: number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function factsOf(log: readonly RunLogEntry[], saved: SavedRunOptions, status: RunStatus): [string, string][] {
  const steps = stepEntries(log);
  const start = lastOf(log, 'start') as StartEntry | undefined;
  const { run, model } = saved;
  const stepTime = median(steps.map((s) => s.stepSeconds));
  const dataTime = median(steps.map((s) => s.dataSeconds));
  const busy = steps.reduce((sum, s) => sum + s.stepSeconds + s.dataSeconds, 0);
  const { step, totalSteps } = progressOf(log);
  const facts: [string, string][] = [
    ['dataset', run.dataroot ?? `built-in synthetic (${run.cropSize} px)`],
    ['model', `${model.qsMode === null ? 'CUT' : `QS-Attn (${model.qsMode})`}, ${model.netG}, ngf ${model.ngf}, ${model.numPatches} patches${saved.preset ? `, preset ${saved.preset}` : ''}`],
    ['backend', start?.backend ?? '?'],
    ['steps logged', `${steps.length} (batch ${run.batchSize})`],
    ['step time (median)', Number.isFinite(stepTime) ? `${stepTime.toFixed(3)} s (${(1 / stepTime).toFixed(2)} steps/s), data wait ${dataTime.toFixed(3)} s` : '–'],
    ['training time (steps + data)', formatDuration(busy)],
  ];
  if (status === 'running' && Number.isFinite(stepTime) && totalSteps > step) facts.push(['time left at this speed', formatDuration((totalSteps - step) * (stepTime + dataTime))]);
  const checkpoints = log.filter((e) => e.event === 'checkpoint').length;
  facts.push(['checkpoints saved', String(checkpoints)]);
  return facts;
}

function scoresOf(log: readonly RunLogEntry[]): { header: string[]; rows: string[][] } | undefined {
  const e = lastOf(log, 'eval') as EvalEntry | undefined;
  if (e === undefined) return undefined;
  const keys = (Object.keys(SCORE_NAMES) as (keyof Scores)[]).filter((k) => typeof e.model[k] === 'number');
  return {
    header: [`${e.images} test images, step ${e.step}`, 'model', 'untranslated input'],
    rows: keys.map((k) => [SCORE_NAMES[k], e.model[k].toFixed(3), (e.identity[k] ?? NaN).toFixed(3)]),
  };
}
