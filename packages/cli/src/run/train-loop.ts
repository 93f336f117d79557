import * as tf from '@tensorflow/tfjs-core';
import type { CutModel, StepLosses } from '@qsattn/cut-model';
import { DatasetError, type UnalignedLoader } from '@qsattn/data';
import { NonFiniteWeightsError, saveRunCheckpoint } from './run-checkpoint';
import type { RunFolder } from './run-folder';

/** The checkpoint a stopped run can continue from. */
export interface SavedPoint {
  step: number;
  path: string;
}

/**
 * Training diverged: a loss became NaN or infinite, or the weights did (caught before a save). The weights after
 * that step are unusable, so nothing was saved from them: the last good checkpoint stays as it was.
 */
export class DivergedError extends Error {
  override readonly name = 'DivergedError';
  constructor(
    readonly step: number,
    /** What went bad: `loss G_GAN`, or `weight G.model.1.weight`. */
    readonly what: string,
    readonly value: string,
    /** The last checkpoint saved (by this process or the run it resumed), if any. */
    readonly lastSaved: SavedPoint | null,
  ) {
    super(
      `step ${step}: ${what} is ${value}, so training stopped (the weights after this step are not usable); ` +
        (lastSaved === null ? 'no checkpoint was saved yet' : `kept ${lastSaved.path} of step ${lastSaved.step}`),
    );
  }
}

/** A checkpoint could not be written (disk full, folder read-only): the previous one is intact. */
export class SaveFailedError extends Error {
  override readonly name = 'SaveFailedError';
  constructor(
    readonly path: string,
    cause: unknown,
    readonly lastSaved: SavedPoint | null,
  ) {
    super(
      `${(cause as Error).message.split('\n')[0]}; training stopped without corrupting anything: ` +
        (lastSaved === null ? 'no checkpoint was saved yet' : `${lastSaved.path} of step ${lastSaved.step} is intact`),
    );
  }
}

/** The first loss that is not a finite number, if any. */
function nonFiniteLoss(losses: StepLosses): [string, number] | undefined {
  return Object.entries(losses).find(([, value]) => !Number.isFinite(value));
}

/** What the loop reports; the command draws progress and writes the log from these. */
export type TrainEvent =
  | { type: 'step'; step: number; totalSteps: number; epoch: number; lastEpoch: number; epochStep: number; epochSteps: number; lr: number; losses: StepLosses; dataSeconds: number; stepSeconds: number }
  | { type: 'checkpoint'; step: number; epoch: number; path: string; reason: 'epoch' | 'latest' | 'stop' | 'error' }
  | { type: 'epoch'; step: number; epoch: number; seconds: number; lr: number };

export interface TrainLoopOptions {
  /** Epochs per save of a numbered checkpoint, and images per save of `latest` within an epoch. */
  saveEpochFreq: number;
  saveLatestFreq: number;
  batchSize: number;
  /** Stop (saving `latest`) once the model has taken this many steps. */
  maxSteps?: number;
  /** Asked after every step; true stops the loop after saving `latest` (Ctrl-C). */
  stopRequested(): boolean;
  /** The checkpoint the model was restored from, if it was (what a stop before the first save leaves). */
  resumedFrom?: SavedPoint;
  /** Awaited: what it does with tensors happens between steps. */
  onEvent(event: TrainEvent): void | Promise<void>;
}

export type TrainLoopEnd = 'done' | 'stopped' | 'max-steps';

/** Steps of a whole run: epochs epoch_count … n_epochs + n_epochs_decay of the loader's batches. */
export function totalSteps(model: CutModel, loader: UnalignedLoader): number {
  const o = model.options;
  return Math.max(0, o.nEpochs + o.nEpochsDecay - o.epochCount + 1) * loader.batchesPerEpoch;
}

/**
 * The official training loop, continued from wherever the model and loader stand: per epoch, the learning rate
 * of the linear policy, the loader's batches (without resize-crop augmentation once the rate decays), one
 * `trainStepAsync` each (any backend, GPU ones included); `latest` is saved after every epoch and every `saveLatestFreq` images, a numbered checkpoint
 * every `saveEpochFreq` epochs. Each checkpoint holds the loader's position, so a run continued from it takes
 * the same steps as one never stopped.
 */
export async function trainLoop(model: CutModel, loader: UnalignedLoader, folder: RunFolder, options: TrainLoopOptions): Promise<TrainLoopEnd> {
  const o = model.options;
  const lastEpoch = o.nEpochs + o.nEpochsDecay;
  const total = totalSteps(model, loader);
  let lastSaved: SavedPoint | null = options.resumedFrom ?? null;
  const save = async (name: string | number, reason: 'epoch' | 'latest' | 'stop' | 'error', epoch: number): Promise<void> => {
    const path = folder.checkpointPath(name);
    try {
      await saveRunCheckpoint(path, model, loader.getState());
    } catch (err) {
      if (err instanceof NonFiniteWeightsError) throw new DivergedError(model.step, `weight ${err.tensor}`, 'NaN or infinite', lastSaved);
      throw new SaveFailedError(path, err, lastSaved);
    }
    if (name === 'latest') lastSaved = { step: model.step, path };
    await options.onEvent({ type: 'checkpoint', step: model.step, epoch, path, reason });
  };
  for (;;) {
    const epochsDone = loader.getState().epoch;
    const epoch = o.epochCount + epochsDone;
    if (epoch > lastEpoch) return 'done';
    const lr = model.setEpoch(epochsDone);
    const epochStart = performance.now();
    let waitStart = performance.now();
    const batches = loader.epoch({ finetuning: epoch > o.nEpochs });
    for await (const { A, B, step: epochStep } of saveBeforeDataError(batches, () => save('latest', 'error', epoch))) {
      const dataSeconds = (performance.now() - waitStart) / 1000;
      const stepStart = performance.now();
      let losses: StepLosses;
      try {
        ({ losses } = await model.trainStepAsync(A, B));
      } finally {
        tf.dispose([A, B]);
      }
      const bad = nonFiniteLoss(losses);
      if (bad !== undefined) throw new DivergedError(model.step, `loss ${bad[0]}`, String(bad[1]), lastSaved);
      const stepSeconds = (performance.now() - stepStart) / 1000;
      await options.onEvent({
        type: 'step',
        step: model.step,
        totalSteps: total,
        epoch,
        lastEpoch,
        epochStep: epochStep + 1,
        epochSteps: loader.batchesPerEpoch,
        lr,
        losses,
        dataSeconds,
        stepSeconds,
      });
      const epochEnds = epochStep + 1 === loader.batchesPerEpoch;
      // A step and its events may settle on promises alone; a turn of the event loop lets signal handlers (Ctrl-C)
      // and timers run before stopRequested is asked.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (!epochEnds && (options.stopRequested() || model.step === options.maxSteps)) {
        await save('latest', 'stop', epoch);
        return options.stopRequested() ? 'stopped' : 'max-steps';
      }
      const images = model.step * options.batchSize;
      if (!epochEnds && images % options.saveLatestFreq < options.batchSize) await save('latest', 'latest', epoch);
      waitStart = performance.now();
    }
    await options.onEvent({ type: 'epoch', step: model.step, epoch, seconds: (performance.now() - epochStart) / 1000, lr });
    await save('latest', 'epoch', epoch);
    if (epoch % options.saveEpochFreq === 0 || epoch === lastEpoch) await save(epoch, 'epoch', epoch);
    if (options.stopRequested()) return 'stopped';
    if (model.step === options.maxSteps && epoch < lastEpoch) return 'max-steps';
  }
}

/**
 * The loader's batches; when one cannot be made (an image gone or corrupt, and bad images are not skipped),
 * `save` runs first, so that the steps since the last checkpoint are kept, and the error then ends the run.
 */
async function* saveBeforeDataError<T>(batches: AsyncGenerator<T>, save: () => Promise<void>): AsyncGenerator<T> {
  try {
    for (;;) {
      let next: IteratorResult<T>;
      try {
        next = await batches.next();
      } catch (err) {
        if (err instanceof DatasetError) {
          // Best effort: when the save fails too, the data error is still the one to report.
          await save().catch(() => undefined);
        }
        throw err;
      }
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await batches.return(undefined); // the loop broke off (stop, max steps, an error): the loader drops its prefetch
  }
}
