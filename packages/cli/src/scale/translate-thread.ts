// A translating thread of `qsattn test --workers N`: loads the generator once, then translates the images the
// pool sends, one at a time. Built as its own entry (dist/translate-thread.js).
import { parentPort, workerData } from 'node:worker_threads';
import type { ByteImage } from '@qsattn/data';
import { translateImage } from '../run/translate-images';
import { loadSpec, type ModelSpec } from './model-spec';
import type { ThreadReply, ThreadRequest } from './thread-messages';

const port = parentPort!;
const post = (reply: ThreadReply, transfer: ArrayBuffer[] = []): void => port.postMessage(reply, transfer);

try {
  const { loaded, info } = await loadSpec(workerData as ModelSpec);
  post({ type: 'ready', info });
  port.on('message', async (request: ThreadRequest) => {
    try {
      const output: ByteImage = await translateImage(loaded.generator, request.image);
      post({ type: 'translated', id: request.id, output }, [output.data.buffer as ArrayBuffer]);
    } catch (err) {
      post({ type: 'failed', id: request.id, message: (err as Error).message.split('\n')[0] });
    }
  });
} catch (err) {
  post({ type: 'load-failed', message: (err as Error).message.split('\n')[0], name: (err as Error).name });
}
