// What one Redis carries: BullMQ jobs per second through one queue with a processor that does nothing, for an
// empty result and for a 100 KB one (about the two PNGs of a 128-px image, base64), with 1 and 4 worker
// processes of 16 concurrent jobs each. Usage: node bench/queue-rate.mjs --url redis://127.0.0.1:PORT [--jobs N].
import { fork } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Queue, Worker } from 'bullmq';

const { values } = parseArgs({ options: { url: { type: 'string' }, jobs: { type: 'string', default: '3000' }, consume: { type: 'string' }, bytes: { type: 'string' } } });
const url = new URL(values.url);
const connection = { host: url.hostname, port: Number(url.port), maxRetriesPerRequest: null };

if (values.consume !== undefined) {
  // A consuming process: returns `bytes` of result per job until told to stop.
  const result = 'x'.repeat(Number(values.bytes));
  const worker = new Worker(values.consume, async () => result, { connection, concurrency: 16 });
  await worker.waitUntilReady();
  process.send('ready');
  process.on('message', async () => {
    await worker.close();
    process.exit(0);
  });
} else {
  const jobs = Number(values.jobs);
  for (const bytes of [0, 100_000]) {
    for (const processes of [1, 4]) {
      const name = `rate-${bytes}-${processes}`;
      const queue = new Queue(name, { connection, streams: { events: { maxLen: 1000 } } });
      await queue.waitUntilReady();
      const consumers = Array.from({ length: processes }, () => fork(fileURLToPath(import.meta.url), ['--url', values.url, '--consume', name, '--bytes', String(bytes)]));
      await Promise.all(consumers.map((c) => new Promise((r) => c.once('message', r))));
      const t0 = performance.now();
      for (let i = 0; i < jobs; i += 500) {
        await queue.addBulk(Array.from({ length: Math.min(500, jobs - i) }, (_, k) => ({ name: 'j', data: { i: i + k } })));
      }
      // Counted from the queue itself (events can be trimmed away under load), every 20 ms.
      while ((await queue.getCompletedCount()) < jobs) await new Promise((r) => setTimeout(r, 20));
      const seconds = (performance.now() - t0) / 1000;
      console.log(JSON.stringify({ bench: 'queue-rate', jobs, resultBytes: bytes, workerProcesses: processes, concurrency: 16, seconds: Number(seconds.toFixed(2)), jobsPerSecond: Math.round(jobs / seconds), load: loadavg().map((l) => Number(l.toFixed(2))) }));
      await Promise.all(consumers.map((c) => new Promise((r) => (c.once('exit', r), c.send('stop')))));
      await queue.obliterate({ force: true });
      await queue.close();
    }
  }
}
