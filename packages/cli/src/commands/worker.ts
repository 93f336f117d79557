import { EXIT_OK, UsageError, type CliIo } from '../io';
import { BACKEND_FLAGS } from '../options/backend-flags';
import { integerValue, stringValue } from '../options/cli-values';
import { splitCores } from '../scale/model-spec';
import { QUEUE_FLAGS, queueSettings } from '../scale/queue-flags';
import { resolveRoots, runQueueWorker } from '../scale/queue-worker';
import type { Command } from './command';

export const workerCommand: Command = {
  name: 'worker',
  summary: 'translate the images that qsattn test --queue sends through a BullMQ queue on Redis',
  usage: '--queue redis://HOST:PORT [--workers N] [--roots DIR,…] [options]',
  description: [
    'Takes translation jobs from the queue until stopped (Ctrl-C or SIGTERM finish the jobs in hand first).',
    'Run it on any number of machines; they need share nothing but Redis. The model comes through Redis too:',
    'qsattn test --queue publishes its weights once, and each worker loads each model once onto --workers',
    'threads. Jobs carry their images, unless the producer sends paths (--send-paths): then this worker reads',
    'only files under --roots. A worker killed mid-job loses nothing: after --lock-duration its job is retried',
    'by another worker. Logs never show the Redis password.',
  ].join('\n'),
  options: {
    ...QUEUE_FLAGS,
    ...BACKEND_FLAGS,
    threads: { ...BACKEND_FLAGS.threads, description: 'threads of the wasm backend in each worker (default: cores / workers)' },
    workers: { type: 'string', valueName: 'N', description: 'translating threads, each a job at once with the model loaded once (default one per core)' },
    roots: { type: 'string', valueName: 'DIR[,DIR…]', description: 'folders under which jobs may name image files (default none: jobs must carry their images)' },
    'lock-duration': { type: 'string', valueName: 'MS', description: "how long a job stays locked without word from its worker before another retries it (default 30000)" },
  },

  async run({ positionals, values }, io: CliIo) {
    if (positionals.length > 0) throw new UsageError(`qsattn worker takes no arguments, got ${positionals.join(' ')}`);
    const settings = queueSettings(values);
    if (settings === null) throw new UsageError('option --queue URL is required: the Redis of the queue, e.g. --queue redis://127.0.0.1:6379');
    const { workers, threads } = splitCores(integerValue(values, 'workers', 1), integerValue(values, 'threads', 1));
    const rootsText = stringValue(values, 'roots');
    const roots = rootsText === undefined ? [] : resolveRoots(rootsText.split(',').filter((r) => r !== ''));
    const controller = new AbortController();
    const stop = (): void => {
      io.stdout.write('stopping: finishing the jobs in hand\n');
      controller.abort();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      await runQueueWorker({
        ...settings,
        backend: stringValue(values, 'backend') ?? 'auto',
        workers,
        threads,
        roots,
        lockDurationMs: integerValue(values, 'lock-duration', 100) ?? 30_000,
        signal: controller.signal,
        onEvent: (event) => {
          if (event.type === 'ready') {
            io.stdout.write(`worker on queue ${settings.queueName} at ${settings.connection.display}: ${workers} thread${workers === 1 ? '' : 's'}, roots ${roots.length === 0 ? 'none' : roots.join(', ')}\n`);
          } else if (event.type === 'model') io.stdout.write(`loaded ${event.file} (model ${event.modelId.slice(0, 12)}, ${event.backend})\n`);
          else if (event.type === 'translated') io.stdout.write(`translated ${event.name} (${Math.round(event.ms)} ms)\n`);
          else io.stdout.write(`failed ${event.name}: ${event.reason}\n`);
        },
      });
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    return EXIT_OK;
  },
};
