import { Redis } from 'ioredis';
import { InputError } from '../io';
import { redisOptions } from './queue-protocol';
import type { QueueConnection } from './redis-url';

/** Redis was unreachable for longer than allowed. */
export class RedisLostError extends InputError {
  override name = 'RedisLostError';
}

/**
 * A connection of our own that says when Redis is gone for good: it retries for `giveUpMs`, then `lost` rejects
 * with a one-line error naming the server (never its password) and the reason. Also the client for the model's key.
 */
export class RedisWatch {
  readonly client: Redis;
  readonly lost: Promise<never>;
  private lastError = 'the connection closed';

  constructor(
    readonly connection: QueueConnection,
    giveUpMs: number,
  ) {
    this.client = new Redis({ ...redisOptions(connection, giveUpMs), lazyConnect: true });
    this.client.on('error', (err: NodeJS.ErrnoException) => {
      this.lastError = err.code ?? err.message.split('\n')[0];
    });
    this.lost = new Promise<never>((_, reject) => {
      this.client.once('end', () =>
        reject(new RedisLostError(`cannot reach Redis at ${connection.display} (${this.lastError}) for ${Math.round(giveUpMs / 1000)} s; check that redis-server runs there and the URL, then run the same command again`)),
      );
    });
    this.lost.catch(() => {});
  }

  /** Connects (or fails with the same error as `lost`). */
  async connect(): Promise<void> {
    await Promise.race([this.client.connect().catch(() => this.lost), this.lost]);
  }

  /** Resolves with `work`, unless Redis goes away first. */
  guard<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.lost]);
  }

  close(): void {
    this.client.disconnect();
  }
}
