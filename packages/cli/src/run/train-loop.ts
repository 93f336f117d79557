import * as tf from '@tensorflow/tfjs-core';
import type { CutModel, StepLosses } from '@qsattn/cut-model';
import type { UnalignedLoader } from '@qsattn/data';
import { saveRunCheckpoint } from './run-checkpoint';
import type { RunFolder } from './run-folder';

/** What the loop reports; the command draws progress and writes the log from these. */
export type TrainEvent =
  | { type: 'step'; step: number; totalSteps: number; epoch: number; lastEpoch: number; epochStep: number; epochSteps: number; lr: number; losses: StepLosses; dataSeconds: number; stepSeconds: number }
  | { type: 'checkpoint'; step: number; epoch: number; path: string; reason: 'epoch' | 'latest' | 'stop' }
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
  const save = async (name: string | number, reason: 'epoch' | 'latest' | 'stop', epoch: number): Promise<void> => {
    const path = folder.checkpointPath(name);
    await saveRunCheckpoint(path, model, loader.getState());
    await options.onEvent({ type: 'checkpoint', step: model.step, epoch, path, reason });
  };
  for (;;) {
    const epochsDone = loader.getState().epoch;
    const epoch = o.epochCount + epochsDone;
    if (epoch > lastEpoch) return 'done';
    const lr = model.setEpoch(epochsDone);
    const epochStart = performance.now();
    let waitStart = performance.now();
    for await (const { A, B, step: epochStep } of loader.epoch({ finetuning: epoch > o.nEpochs })) {
      const dataSeconds = (performance.now() - waitStart) / 1000;
      const stepStart = performance.now();
      let losses: StepLosses;
      try {
        ({ losses } = await model.trainStepAsync(A, B));
      } finally {
        tf.dispose([A, B]);
      }
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
