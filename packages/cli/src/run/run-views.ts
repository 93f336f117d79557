// What a training run shows while it goes: the report (rewritten at every checkpoint) and, with --dashboard,
// the live page. Everything that touches tensors runs between steps (the loop awaits it), never during one;
// a failure here is a warning, never the end of the run.
import type { CutModel } from '@qsattn/cut-model';
import type { UnalignedDataset } from '@qsattn/data';
import type { StepEntry } from '@qsattn/viz';
import type { Dashboard } from '@qsattn/viz/node';
import type { SavedRunOptions } from '../options/run-options';
import { preprocessForTest } from './datasets';
import { RunReport, type Snapshot, type SnapshotSamples } from './run-report';
import type { RunFolder } from './run-folder';
import type { TrainEvent } from './train-loop';
import { basename } from 'node:path';

/** The dashboard's images are retaken at most this often (and at every checkpoint). */
const DASHBOARD_SNAPSHOT_SECONDS = 10;

/** The snapshot samples of a run: the first image of each training domain, preprocessed as for testing. */
export async function snapshotSamples(dataset: UnalignedDataset, saved: SavedRunOptions): Promise<SnapshotSamples> {
  const test = { preprocess: saved.run.preprocess, cropSize: saved.run.cropSize };
  const [a, b] = [dataset.entriesA[0], dataset.entriesB[0]];
  return { A: preprocessForTest(await a.load(), test, a.path), B: preprocessForTest(await b.load(), test, b.path) };
}

export class RunViews {
  readonly report: RunReport;
  private lastSnapshot: { step: number; taken: Snapshot } | null = null;
  private lastDashboardSnapshot = -Infinity;
  private warned = false;
  private epoch: number;
  private failed = false;

  constructor(
    folder: RunFolder,
    saved: SavedRunOptions,
    private readonly model: CutModel,
    private readonly samples: SnapshotSamples,
    private readonly warn: (message: string) => void,
    private readonly dashboard: Dashboard | null,
  ) {
    this.report = new RunReport(folder, saved);
    this.report.truncate(model.step);
    this.epoch = model.options.epochCount;
  }

  /** Runs `work`, turning a failure into one warning (none once the run itself has failed). */
  private async guard(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (err) {
      if (!this.warned && !this.failed) this.warn(`report: ${(err as Error).message.split('\n')[0]} (training goes on)`);
      this.warned = true;
    }
  }

  private async snapshot(key: string, label: string, epoch: number): Promise<Snapshot> {
    const reuse = this.lastSnapshot?.step === this.model.step ? this.lastSnapshot.taken : undefined;
    const taken = await this.report.addSnapshot(this.model.netG, this.samples, key, label, epoch, this.model.step, reuse);
    this.lastSnapshot = { step: this.model.step, taken };
    if (this.dashboard !== null) {
      this.dashboard.setSnapshot({
        step: this.model.step,
        label,
        grid: taken.grid,
        maps: taken.layers.map((l, i) => ({ ...taken.record.maps[i], entropy: l.entropyPng, attention: l.attentionPng })),
      });
      this.lastDashboardSnapshot = performance.now();
    }
    return taken;
  }

  /** Called with each event of the loop (awaited there, so between steps) and the step's log entry. */
  async handle(event: TrainEvent, entry?: StepEntry): Promise<void> {
    if (event.type === 'step') {
      this.epoch = event.epoch;
      if (this.dashboard === null) return;
      if (entry !== undefined) this.dashboard.addSteps([entry]);
      this.dashboard.setProgress({ step: event.step, totalSteps: event.totalSteps, epoch: event.epoch, lastEpoch: event.lastEpoch });
      if (performance.now() - this.lastDashboardSnapshot > DASHBOARD_SNAPSHOT_SECONDS * 1000) {
        await this.guard(async () => void (await this.snapshot('latest', 'latest', event.epoch)));
      }
    } else if (event.type === 'checkpoint') {
      const numbered = !basename(event.path).startsWith('latest_');
      await this.guard(async () => {
        await this.snapshot(numbered ? `epoch_${event.epoch}` : 'latest', numbered ? `epoch ${event.epoch}` : 'latest', event.epoch);
        await this.report.write('running');
      });
    }
  }

  /** The last word: a final snapshot if the model moved since, the report, and the dashboard's status. */
  async finish(status: 'done' | 'stopped' | 'failed', note?: string): Promise<void> {
    if (status === 'failed') this.failed = true;
    await this.guard(async () => {
      if (status !== 'failed' && this.lastSnapshot?.step !== this.model.step) await this.snapshot('latest', 'latest', this.epoch);
      await this.report.write(status, note);
    });
    this.dashboard?.setStatus(status, note);
  }
}
