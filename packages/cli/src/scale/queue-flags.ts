import type { OptionSpec, ParsedArgs } from '../commands/command';
import { UsageError } from '../io';
import { integerValue, stringValue } from '../options/cli-values';
import { DEFAULT_QUEUE_NAME } from './queue-protocol';
import { parseQueueUrl, PASSWORD_ENV, type QueueConnection } from './redis-url';

/** The options of `qsattn test --queue` and `qsattn worker` for the queue itself. */
export const QUEUE_FLAGS: Record<string, OptionSpec> = {
  queue: {
    type: 'string',
    valueName: 'URL',
    description: `Redis of the BullMQ queue: redis://[:PASSWORD@]HOST:PORT[/DB], or rediss:// for TLS (the password may come from ${PASSWORD_ENV} instead)`,
  },
  'queue-name': { type: 'string', valueName: 'NAME', description: `the BullMQ queue (default ${DEFAULT_QUEUE_NAME})` },
  'queue-ca': { type: 'string', valueName: 'FILE', description: "a CA certificate (PEM) to trust for rediss://, e.g. a self-signed server's" },
  'queue-timeout': { type: 'string', valueName: 'SECONDS', description: 'how long Redis may be unreachable before the command stops with an error (default 30)' },
};

export interface QueueSettings {
  connection: QueueConnection;
  queueName: string;
  giveUpMs: number;
}

/** The queue options given, or null without --queue. */
export function queueSettings(values: ParsedArgs['values'], env: NodeJS.ProcessEnv = process.env): QueueSettings | null {
  const url = stringValue(values, 'queue');
  if (url === undefined) {
    const stray = ['queue-name', 'queue-ca', 'queue-timeout'].find((name) => values[name] !== undefined);
    if (stray !== undefined) throw new UsageError(`--${stray} needs --queue URL`);
    return null;
  }
  const queueName = stringValue(values, 'queue-name') ?? DEFAULT_QUEUE_NAME;
  if (!/^[A-Za-z0-9_.-]+$/.test(queueName)) throw new UsageError(`--queue-name needs letters, digits, '_', '.' or '-', got '${queueName}'`);
  return {
    connection: parseQueueUrl(url, { ca: stringValue(values, 'queue-ca'), env }),
    queueName,
    giveUpMs: (integerValue(values, 'queue-timeout', 1) ?? 30) * 1000,
  };
}
