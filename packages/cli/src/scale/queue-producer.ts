import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { Job, Queue, QueueEvents } from 'bullmq';
import { encodePng } from '@qsattn/data';
import type { TestImage, TestPreprocess } from '../run/datasets';
import { readInputFile } from '../fixture-file';
import type { ModelSpec } from './model-spec';
import { MODEL_TTL_SECONDS, modelKey, redisOptions, type PublishedSpec, type TranslateJob, type TranslateResult } from './queue-protocol';
import type { QueueConnection } from './redis-url';
import { RedisLostError, RedisWatch } from './redis-watch';
import type { ImageFailure, SetProgress } from './translate-set';

export interface QueueProducerOptions {
  connection: QueueConnection;
  queueName: string;
  spec: ModelSpec;
  preprocess: TestPreprocess;
  inputNc: 1 | 3;
  /** Send image paths (for workers that share the file system) instead of the images' bytes. */
  sendPaths: boolean;
  /** Jobs in the queue at once: enough to keep every worker busy, few enough to bound Redis' memory. */
  window: number;
  /** How long Redis may be unreachable before the run stops with an error. */
  giveUpMs: number;
  /** Called with each result as it comes back (not in input order); `index` is the image's place in the set. */
  use(name: string, result: TranslateResult, index: number): Promise<void>;
  onProgress?(progress: SetProgress): void;
}

/** The id of a model: its weights' bytes and architecture (not its file name, so copies share it). */
export function modelId(spec: ModelSpec): string {
  const hash = createHash('sha256').update(readInputFile(spec.path));
  return hash.update(JSON.stringify({ flags: spec.flags, base: spec.base ?? null })).digest('hex');
}

/** An image's bytes as a job carries them: the file as it is, or, for an image made in memory, as PNG. */
async function imageBytes(image: TestImage): Promise<Buffer> {
  if (image.file !== undefined) return readFile(image.file);
  return encodePng(await image.load());
}

/**
 * Translates images through BullMQ workers: publishes the model once, enqueues one job per image (at most
 * `window` waiting at once), and hands each result to `use` as it comes back. A failed job (a bad image) is a
 * failure of that image; Redis gone for `giveUpMs` ends the run with an error (what `use` wrote stays whole).
 */
export async function translateThroughQueue(images: readonly { image: TestImage; index: number }[], options: QueueProducerOptions): Promise<ImageFailure[]> {
  const { connection, queueName, spec } = options;
  const watch = new RedisWatch(connection, options.giveUpMs);
  await watch.connect();
  const redis = redisOptions(connection, options.giveUpMs);
  const queue = new Queue<TranslateJob, TranslateResult>(queueName, { connection: redis, streams: { events: { maxLen: 1000 } } });
  const events = new QueueEvents(queueName, { connection: redis });
  const failures: ImageFailure[] = [];
  const run = randomBytes(6).toString('hex');
  const added: Job<TranslateJob, TranslateResult>[] = [];
  try {
    const id = modelId(spec);
    const key = modelKey(queueName, id);
    const published: PublishedSpec = { file: basename(spec.path), flags: spec.flags, base: spec.base };
    await watch.guard(Promise.all([queue.waitUntilReady(), events.waitUntilReady()]));
    if (!(await watch.guard(watch.client.exists(key)))) {
      await watch.guard(watch.client.hset(key, { weights: Buffer.from(readInputFile(spec.path)), spec: JSON.stringify(published) }));
    }
    await watch.guard(watch.client.expire(key, MODEL_TTL_SECONDS));
    // A job's end: from the queue's events, or, should the reader have missed it (the events stream is capped, as
    // its entries carry the results), from the job itself, looked at every few seconds.
    const finished = async (job: Job<TranslateJob, TranslateResult>): Promise<TranslateResult> => {
      const byEvent = job.waitUntilFinished(events);
      byEvent.catch(() => {});
      for (;;) {
        const settled = await Promise.race([byEvent.then(() => true, () => true), new Promise<false>((r) => setTimeout(() => r(false), 3000).unref())]);
        if (settled) return byEvent;
        const state = await job.getState();
        if (state === 'completed' || state === 'failed') {
          const fresh = await Job.fromId<TranslateJob, TranslateResult>(queue, job.id!);
          if (fresh === undefined) throw new Error(`job ${job.id} disappeared from the queue`);
          if (state === 'completed') return fresh.returnvalue;
          throw new Error(fresh.failedReason);
        }
      }
    };
    const refresh = setInterval(() => void watch.client.expire(key, MODEL_TTL_SECONDS).catch(() => {}), 60_000);
    const ping = setInterval(() => void watch.client.ping().catch(() => {}), 1000);
    try {
      let next = 0;
      let done = 0;
      const one = async ({ image, index }: { image: TestImage; index: number }): Promise<void> => {
        let data: TranslateJob;
        try {
          const source = options.sendPaths && image.file !== undefined ? { path: resolve(image.file) } : { bytes: (await imageBytes(image)).toString('base64') };
          data = { modelId: id, name: image.name, file: image.file ?? image.name, preprocess: options.preprocess, inputNc: options.inputNc, image: source };
        } catch (err) {
          failures.push({ name: image.name, reason: (err as Error).message.split('\n')[0] });
          options.onProgress?.({ done: ++done, failed: failures.length, total: images.length });
          return;
        }
        const job = await watch.guard(
          queue.add('translate', data, { jobId: `${run}-${index}`, attempts: 3, backoff: { type: 'exponential', delay: 500 }, removeOnComplete: false, removeOnFail: false }),
        );
        added.push(job);
        let result: TranslateResult | undefined;
        try {
          result = await watch.guard(finished(job));
        } catch (err) {
          if (err instanceof RedisLostError) throw err;
          failures.push({ name: image.name, reason: (err as Error).message.split('\n')[0] });
        }
        if (result !== undefined) await options.use(image.name, result, index);
        await watch.guard(job.remove().catch(() => {}));
        done++;
        options.onProgress?.({ done, failed: failures.length, total: images.length });
      };
      const lane = async (): Promise<void> => {
        while (next < images.length) await one(images[next++]);
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(options.window, images.length)) }, lane));
    } finally {
      clearInterval(refresh);
      clearInterval(ping);
    }
    return failures;
  } finally {
    // Jobs of this run still queued (after an error) would translate for no one: take them back, if Redis is there.
    await Promise.race([
      (async () => {
        await Promise.all(added.map((job) => job.remove().catch(() => {})));
        await Promise.all([events.close(), queue.close()]);
      })(),
      new Promise((r) => setTimeout(r, 2000).unref()),
    ]);
    watch.close();
  }
}
