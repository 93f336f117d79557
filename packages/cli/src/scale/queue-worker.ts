import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { readFile, realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join, relative } from 'node:path';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { decodeImage, encodePng } from '@qsattn/data';
import { InputError } from '../io';
import { preprocessForTest } from '../run/datasets';
import { startLocalTranslator, type ImageTranslator } from './local-translator';
import { modelKey, redisOptions, type PublishedSpec, type TranslateJob, type TranslateResult } from './queue-protocol';
import type { QueueConnection } from './redis-url';
import { RedisWatch } from './redis-watch';
import { PoolError } from './thread-pool';

export type WorkerEvent =
  | { type: 'ready' }
  | { type: 'model'; file: string; modelId: string; backend: string }
  | { type: 'translated'; name: string; ms: number }
  | { type: 'failed'; name: string; reason: string };

export interface QueueWorkerOptions {
  connection: QueueConnection;
  queueName: string;
  backend: string;
  /** Translating threads (jobs at once) and wasm threads in each. */
  workers: number;
  threads?: number;
  /** Folders whose files jobs may name; none: jobs must carry their images. */
  roots: readonly string[];
  /** How long a job stays locked without word from its worker; a killed worker's job is retried after this. */
  lockDurationMs: number;
  giveUpMs: number;
  onEvent(event: WorkerEvent): void;
  /** Stops taking jobs; the jobs in hand are finished first. */
  signal: AbortSignal;
}

/** The roots as real paths; a root that does not exist is an InputError. */
export function resolveRoots(roots: readonly string[]): string[] {
  return roots.map((root) => {
    try {
      return realpathSync(root);
    } catch {
      throw new InputError(`--roots ${root}: no such folder`);
    }
  });
}

const inside = (path: string, root: string): boolean => {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
};

/** Reads a file a job names, only if its real path (links followed) lies under one of the roots. */
export async function readUnderRoots(path: string, roots: readonly string[]): Promise<Buffer> {
  if (roots.length === 0) throw new UnrecoverableError(`${path}: this worker reads no files (start it with --roots DIR to let jobs name files under DIR)`);
  let real: string;
  try {
    real = await realpath(path);
  } catch (err) {
    throw new UnrecoverableError(`${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (!roots.some((root) => inside(real, root))) throw new UnrecoverableError(`${path}: outside this worker's roots (${roots.join(', ')}); it reads only under them`);
  return readFile(real);
}

/**
 * Takes translation jobs from the queue until `signal` stops it: loads each model the jobs name once (from Redis,
 * where the producer published it) onto a pool of `workers` threads, and returns both PNGs of each image. An
 * image that cannot be read fails its job at once (no retry); anything else is retried by BullMQ. Rejects when
 * Redis is gone for `giveUpMs`.
 */
export async function runQueueWorker(options: QueueWorkerOptions): Promise<void> {
  const { connection, queueName } = options;
  const watch = new RedisWatch(connection, options.giveUpMs);
  await watch.connect();
  const scratch = mkdtempSync(join(tmpdir(), 'qsattn-worker-'));
  const models = new Map<string, Promise<ImageTranslator>>();

  const loadModel = async (modelId: string): Promise<ImageTranslator> => {
    const key = modelKey(queueName, modelId);
    const [weights, specText] = await Promise.all([watch.client.hgetBuffer(key, 'weights'), watch.client.hget(key, 'spec')]);
    if (weights === null || specText === null) {
      throw new UnrecoverableError(`model ${modelId.slice(0, 12)} is not in Redis (a producer publishes it; it expires a day after the last one)`);
    }
    const spec = JSON.parse(specText) as PublishedSpec;
    const dir = join(scratch, modelId.slice(0, 16));
    rmSync(dir, { recursive: true, force: true });
    const path = join(dir, basename(spec.file));
    mkdirSync(dir, { recursive: true });
    writeFileSync(path, weights);
    const translator = await startLocalTranslator({ path, flags: spec.flags, base: spec.base, backend: options.backend, threads: options.threads }, options.workers, { threads: true });
    options.onEvent({ type: 'model', file: spec.file, modelId, backend: translator.info.backend });
    // Keep the two most recent models: jobs of two producers may interleave.
    while (models.size > 2) {
      const [oldest, pending] = models.entries().next().value!;
      models.delete(oldest);
      void pending.then((t) => t.close()).catch(() => {});
    }
    return translator;
  };

  const model = (modelId: string): Promise<ImageTranslator> => {
    let pending = models.get(modelId);
    if (pending === undefined) {
      pending = loadModel(modelId);
      models.set(modelId, pending);
      pending.catch(() => models.delete(modelId));
    }
    return pending;
  };

  const process = async (job: Job<TranslateJob, TranslateResult>): Promise<TranslateResult> => {
    const started = performance.now();
    const { data } = job;
    try {
      const translator = await model(data.modelId);
      const bytes = 'path' in data.image ? await readUnderRoots(data.image.path, options.roots) : Buffer.from(data.image.bytes, 'base64');
      let input;
      try {
        input = preprocessForTest(await decodeImage(bytes, data.file, data.inputNc), data.preprocess, data.file);
      } catch (err) {
        throw new UnrecoverableError((err as Error).message.split('\n')[0]);
      }
      const output = await translator.translate(input);
      const [realA, fakeB] = await Promise.all([encodePng(input), encodePng(output)]);
      options.onEvent({ type: 'translated', name: data.name, ms: performance.now() - started });
      return { realA: realA.toString('base64'), fakeB: fakeB.toString('base64') };
    } catch (err) {
      if (err instanceof PoolError) {
        // A dead thread pool: load the model afresh for the retry of this job and the next ones.
        const broken = models.get(data.modelId);
        models.delete(data.modelId);
        void broken?.then((t) => t.close()).catch(() => {});
      }
      options.onEvent({ type: 'failed', name: data.name, reason: (err as Error).message.split('\n')[0] });
      throw err;
    }
  };

  const redis = redisOptions(connection, options.giveUpMs);
  const worker = new Worker<TranslateJob, TranslateResult>(queueName, process, {
    connection: redis,
    concurrency: options.workers,
    lockDuration: options.lockDurationMs,
    stalledInterval: options.lockDurationMs,
    maxStalledCount: 2,
    autorun: false,
  });
  worker.on('error', () => {}); // connection trouble is reported by the watch
  const stopped = new Promise<void>((resolve) => {
    if (options.signal.aborted) resolve();
    options.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  try {
    await watch.guard(worker.waitUntilReady());
    const running = worker.run();
    options.onEvent({ type: 'ready' });
    await watch.guard(Promise.race([stopped, running]));
  } finally {
    await Promise.race([worker.close(), watch.lost.catch(() => {})]);
    await Promise.all([...models.values()].map((pending) => pending.then((t) => t.close()).catch(() => {})));
    watch.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}
