import type { ByteImage } from '@qsattn/data';
import { preprocessForTest, type TestImage, type TestPreprocess } from '../run/datasets';
import type { TranslatedImage } from '../run/translate-images';
import { PoolError } from './thread-pool';

/** An image that could not be translated, and why (the others go on). */
export interface ImageFailure {
  name: string;
  reason: string;
}

export interface SetProgress {
  /** Images finished so far (translated or failed) and how many this run translates in all. */
  done: number;
  failed: number;
  total: number;
}

export interface TranslateSetOptions {
  /** Translates one preprocessed image (in this thread, on a pool of threads, or through a queue). */
  translate(image: ByteImage): Promise<ByteImage>;
  /** Images in flight at once: enough to keep every translating thread busy. */
  concurrency: number;
  /** Called for each translation as it finishes (not in input order); `index` is the image's place in the set. */
  use(result: TranslatedImage, index: number): Promise<void> | void;
  onProgress?(progress: SetProgress): void;
}

/**
 * Loads, preprocesses (the official test-time transform) and translates every image, `concurrency` at a time. An
 * image that cannot be read or translated is a failure of that image only; a translator that breaks as a whole
 * (a dead pool) ends the run.
 */
export async function translateSet(
  images: readonly { image: TestImage; index: number }[],
  preprocess: TestPreprocess,
  options: TranslateSetOptions,
): Promise<ImageFailure[]> {
  const failures: ImageFailure[] = [];
  let next = 0;
  let done = 0;
  const one = async ({ image, index }: { image: TestImage; index: number }): Promise<void> => {
    let result: TranslatedImage | undefined;
    try {
      const input = preprocessForTest(await image.load(), preprocess, image.name);
      const target = image.loadTarget === undefined ? undefined : preprocessForTest(await image.loadTarget(), preprocess, `${image.name} (target)`);
      result = { name: image.name, input, output: await options.translate(input), target };
    } catch (err) {
      if (err instanceof PoolError) throw err;
      failures.push({ name: image.name, reason: (err as Error).message.split('\n')[0] });
    }
    // A failed write (a full disk, a missing folder) is not the image's fault: it ends the run.
    if (result !== undefined) await options.use(result, index);
    done++;
    options.onProgress?.({ done, failed: failures.length, total: images.length });
  };
  const lane = async (): Promise<void> => {
    while (next < images.length) await one(images[next++]);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, images.length)) }, lane));
  return failures;
}
