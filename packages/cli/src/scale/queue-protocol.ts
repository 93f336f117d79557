// What `qsattn test --queue` and `qsattn worker` exchange through Redis: the queue's name, the model published
// once per model, one job per image and its result.
import type { RedisOptions } from 'bullmq';
import type { ModelOptions } from '@qsattn/cut-model';
import type { TestPreprocess } from '../run/datasets';
import type { QueueConnection } from './redis-url';

/** The BullMQ queue both sides use unless `--queue-name` says otherwise. */
export const DEFAULT_QUEUE_NAME = 'qsattn-translate';

/**
 * Where a model's weights and architecture are published: once per model, by the producer, so that workers need
 * nothing but Redis. A hash with `weights` (the weights file's bytes) and `spec` (JSON of `PublishedSpec`).
 */
export const modelKey = (queueName: string, modelId: string): string => `qsattn:${queueName}:model:${modelId}`;

/** How long a published model stays in Redis after the last producer that used it (refreshed while one runs). */
export const MODEL_TTL_SECONDS = 24 * 3600;

export interface PublishedSpec {
  /** The weights file's name where the producer found it (for messages). */
  file: string;
  flags: Partial<ModelOptions>;
  base?: ModelOptions;
}

/** One image to translate. */
export interface TranslateJob {
  modelId: string;
  name: string;
  /** Where the producer found the image (its path, or its name for an image made in memory): for messages. */
  file: string;
  preprocess: TestPreprocess;
  inputNc: 1 | 3;
  /** The image file's bytes (base64), or its path for workers that share the file system (under their roots). */
  image: { bytes: string } | { path: string };
}

/** What a worker sends back: both PNGs of the results folder (base64), as `qsattn test` would write them. */
export interface TranslateResult {
  realA: string;
  fakeB: string;
}

/**
 * ioredis options for a connection: TLS and credentials from the URL, and a retry strategy that gives up after
 * `giveUpMs` without Redis (then the connection ends and the caller reports it) instead of retrying forever.
 */
export function redisOptions(connection: QueueConnection, giveUpMs: number): RedisOptions {
  const retryMs = 200;
  return {
    host: connection.host,
    port: connection.port,
    db: connection.db,
    username: connection.username,
    password: connection.password,
    tls: connection.tls,
    maxRetriesPerRequest: null,
    // `times` counts the attempts since the connection was last up.
    retryStrategy: (times: number) => (times * retryMs > giveUpMs ? null : retryMs),
  };
}
