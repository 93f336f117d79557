// A backend on first use: entry points that need one work without an earlier `selectBackend()`.
import * as tf from '@tensorflow/tfjs-core';
import { BackendError, selectBackend, type BackendChoice } from './select-backend';

/** The engine's fields that tell whether a backend is running, read without starting one (`tf.getBackend()` would). */
interface EngineState {
  backendInstance: unknown;
  pendingBackendInit: Promise<boolean> | null | undefined;
  backendName: string;
}

const engine = (): EngineState => tf.engine() as unknown as EngineState;

/** The name of the backend tfjs is running on, or `undefined` when none is initialised yet. */
export function activeBackend(): string | undefined {
  const e = engine();
  return e.backendInstance != null && e.pendingBackendInit == null ? e.backendName : undefined;
}

let automatic: Promise<BackendChoice> | undefined;
let automaticChoice: BackendChoice | undefined;

/**
 * The backend to run on: the active one, or else the `auto` choice of `selectBackend`, made on the first call and
 * reused after (quietly: `automaticBackendChoice()` tells which one and why, when asked).
 */
export async function ensureBackend(): Promise<string> {
  const pending = engine().pendingBackendInit;
  if (pending != null) await pending;
  const active = activeBackend();
  if (active !== undefined) return active;
  automatic ??= selectBackend('auto').then(
    (choice) => (automaticChoice = choice),
    (err: unknown) => {
      automatic = undefined; // a later call may try again (e.g. after installing a backend)
      throw err;
    },
  );
  await automatic;
  return tf.getBackend();
}

/** The choice `ensureBackend` made by itself, if it made one (`describeBackendChoice` puts it in words). */
export function automaticBackendChoice(): BackendChoice | undefined {
  return automaticChoice;
}

/**
 * For synchronous entry points: the active backend, or one tfjs can start by itself right now (a registered
 * synchronous backend such as cpu); otherwise a one-line error that names the fix.
 */
export function requireBackend(what: string): string {
  const active = activeBackend();
  if (active !== undefined) return active;
  if (engine().pendingBackendInit == null) {
    try {
      void tf.engine().backend; // starts the best registered backend if it can start synchronously
      return tf.getBackend();
    } catch {
      // none registered, or only asynchronous ones (wasm, webgl, webgpu) that need an await to start
    }
  }
  throw new BackendError(
    `${what} needs a TensorFlow.js backend and none is running yet: first \`await ensureBackend()\` (or \`await selectBackend(name)\`) from @qsattn/core`,
  );
}
