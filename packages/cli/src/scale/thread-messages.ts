import type { ByteImage } from '@qsattn/data';
import type { ModelInfo } from './model-spec';

/** From the pool to a thread. */
export interface ThreadRequest {
  type: 'translate';
  id: number;
  image: ByteImage;
}

/** From a thread to the pool. */
export type ThreadReply =
  | { type: 'ready'; info: ModelInfo }
  | { type: 'load-failed'; message: string; name: string }
  | { type: 'translated'; id: number; output: ByteImage }
  | { type: 'failed'; id: number; message: string };
