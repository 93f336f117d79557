import type { ByteImage } from '@qsattn/data';
import { translateImage } from '../run/translate-images';
import { loadSpec, type ModelInfo, type ModelSpec } from './model-spec';
import { TranslatorPool } from './thread-pool';

/** Translates images one way or another (this thread, a pool of threads, a queue of machines). */
export interface ImageTranslator {
  info: ModelInfo;
  /** Images worth having in flight at once. */
  concurrency: number;
  translate(image: ByteImage): Promise<ByteImage>;
  close(): Promise<void>;
}

/**
 * Translators on this machine: with one worker the generator runs in this thread (no thread to start); with
 * more (or `threads`: keeping this thread free, as a queue worker must, to renew its jobs' locks), a pool of
 * worker threads that each load it once.
 */
export async function startLocalTranslator(spec: ModelSpec, workers: number, { threads = false }: { threads?: boolean } = {}): Promise<ImageTranslator> {
  if (workers === 1 && !threads) {
    const { loaded, info } = await loadSpec(spec);
    return {
      info,
      concurrency: 1,
      translate: async (image) => translateImage(loaded.generator, image),
      close: async () => loaded.generator.dispose(),
    };
  }
  const pool = await TranslatorPool.start(spec, workers);
  // Two images per thread: the next one is read and preprocessed while the thread works.
  return { info: pool.info, concurrency: 2 * workers, translate: (image) => pool.translate(image), close: () => pool.close() };
}
