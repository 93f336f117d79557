import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ByteImage } from '@qsattn/data';
import { InputError } from '../io';
import type { ModelInfo, ModelSpec } from './model-spec';
import type { ThreadReply, ThreadRequest } from './thread-messages';

/**
 * Where a thread starts: the built `translate-thread.js` beside this module in dist/, or, running from source
 * (the tests), a small module that registers tsx and imports the TypeScript file.
 */
function threadEntry(): URL {
  const built = new URL('./translate-thread.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  // tsx/esm/api's ESM build (require.resolve finds its CommonJS twin beside it).
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const source = new URL('./translate-thread.ts', import.meta.url).href;
  const code = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(source)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

/** The pool itself failed (a thread died): no image can be translated any more. */
export class PoolError extends Error {
  override name = 'PoolError';
}

interface Pending {
  image: ByteImage;
  resolve(output: ByteImage): void;
  reject(error: Error): void;
}

class TranslateThread {
  private busy: { id: number; job: Pending } | null = null;

  constructor(readonly worker: Worker) {}

  get idle(): boolean {
    return this.busy === null;
  }

  send(id: number, job: Pending): void {
    this.busy = { id, job };
    const request: ThreadRequest = { type: 'translate', id, image: job.image };
    this.worker.postMessage(request);
  }

  /** The job in flight, now finished. */
  take(id: number): Pending | undefined {
    if (this.busy?.id !== id) return undefined;
    const { job } = this.busy;
    this.busy = null;
    return job;
  }

  abandon(): Pending | undefined {
    const job = this.busy?.job;
    this.busy = null;
    return job;
  }
}

/**
 * Worker threads that each load the generator once and translate one image at a time: `translate` hands an image
 * to the first idle thread (or queues it) and resolves with the translation. A thread that dies fails its image
 * and every queued one.
 */
export class TranslatorPool {
  private readonly queue: Pending[] = [];
  private nextId = 0;
  private broken: Error | null = null;
  private closing = false;

  private constructor(
    private readonly threads: TranslateThread[],
    /** What the first thread reported about the model and backend. */
    readonly info: ModelInfo,
  ) {
    for (const thread of threads) {
      thread.worker.on('message', (reply: ThreadReply) => this.onReply(thread, reply));
      thread.worker.on('error', (err) => this.fail(new PoolError(`a translating thread failed: ${err.message.split('\n')[0]}`)));
      thread.worker.on('exit', (code) => {
        if (!this.closing) this.fail(new PoolError(`a translating thread stopped (exit ${code})`));
      });
    }
  }

  /** Starts `size` threads and waits until each has loaded the model; a model that cannot load is an InputError. */
  static async start(spec: ModelSpec, size: number): Promise<TranslatorPool> {
    const entry = threadEntry();
    const workers = Array.from({ length: size }, () => new Worker(entry, { workerData: spec }));
    const ready = workers.map(
      (worker) =>
        new Promise<ModelInfo>((resolve, reject) => {
          worker.once('message', (reply: ThreadReply) => {
            if (reply.type === 'ready') resolve(reply.info);
            else if (reply.type === 'load-failed') reject(reply.name === 'InputError' ? new InputError(reply.message) : new Error(reply.message));
            else reject(new Error(`a translating thread answered '${reply.type}' before it was ready`));
          });
          worker.once('error', (err) => reject(new Error(`a translating thread failed to start: ${err.message.split('\n')[0]}`)));
        }),
    );
    try {
      const infos = await Promise.all(ready);
      return new TranslatorPool(
        workers.map((w) => new TranslateThread(w)),
        infos[0],
      );
    } catch (err) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw err;
    }
  }

  get size(): number {
    return this.threads.length;
  }

  /** Translates one preprocessed image on the first free thread. (The pixels are copied to it.) */
  translate(image: ByteImage): Promise<ByteImage> {
    if (this.broken !== null) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      this.queue.push({ image, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops the threads (their memory, the model's included, goes with them). */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }

  private dispatch(): void {
    for (const thread of this.threads) {
      if (this.queue.length === 0) return;
      if (thread.idle) thread.send(this.nextId++, this.queue.shift()!);
    }
  }

  private onReply(thread: TranslateThread, reply: ThreadReply): void {
    if (reply.type !== 'translated' && reply.type !== 'failed') return;
    const job = thread.take(reply.id);
    if (job !== undefined) {
      if (reply.type === 'translated') job.resolve(reply.output);
      else job.reject(new Error(reply.message));
    }
    this.dispatch();
  }

  private fail(error: Error): void {
    if (this.broken !== null || this.closing) return;
    this.broken = error;
    for (const thread of this.threads) thread.abandon()?.reject(error);
    for (const job of this.queue.splice(0)) job.reject(error);
    for (const thread of this.threads) void thread.worker.terminate();
  }
}
