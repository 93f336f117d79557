import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from './errors';
import { checkThreadCount, configureWasmThreads, wasmThreadsInUse } from './wasm-threads';

export { BackendError };

/** Backends the chooser knows. `auto` picks the fastest one that loads here. */
export const BACKEND_NAMES = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu', 'webgl', 'webgpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** Why a backend was passed over by `auto`, or why an explicit choice failed. */
export interface BackendAttempt {
  name: Exclude<BackendName, 'auto'>;
  ok: boolean;
  reason: string;
}

export interface BackendChoice {
  /** The backend now active (the tfjs backend name: `tensorflow`, `wasm`, `cpu`, `webgl`, `webgpu`). */
  name: string;
  /** The chooser's name for it (`tensorflow-gpu` and `tensorflow` both register as tfjs's `tensorflow`). */
  requested: BackendName;
  /** Every backend tried, in order, with the reason each one was chosen or passed over. */
  attempts: BackendAttempt[];
  /** The threads the wasm backend computes on (wasm only). */
  threads?: number;
}

export interface SelectBackendOptions {
  /**
   * Threads for the wasm backend: a whole number from 1 up, at most 8 used; default: the running backend's
   * count, else every core (up to 8). In Node more than one starts tfjs-backend-wasm's multithreaded build (see
   * configureWasmThreads). Fixed once the backend has started: another count is then an error.
   */
  threads?: number;
}

interface Candidate {
  name: Exclude<BackendName, 'auto'>;
  tfName: string;
  /** Loads the package that registers the backend; throws if it is not installed or cannot run here. */
  load: () => Promise<unknown>;
}

const isNode = typeof process !== 'undefined' && process.versions?.node != null;

// Module names are held in variables so bundlers do not try to resolve optional native packages.
const dynamicImport = (name: string): Promise<unknown> => import(/* @vite-ignore */ name);

const CANDIDATES: Record<Exclude<BackendName, 'auto'>, Candidate> = {
  'tensorflow-gpu': {
    name: 'tensorflow-gpu',
    tfName: 'tensorflow',
    load: () => requireNode('@tensorflow/tfjs-node-gpu'),
  },
  tensorflow: { name: 'tensorflow', tfName: 'tensorflow', load: () => requireNode('@tensorflow/tfjs-node') },
  wasm: { name: 'wasm', tfName: 'wasm', load: () => import('@tensorflow/tfjs-backend-wasm') },
  cpu: { name: 'cpu', tfName: 'cpu', load: () => import('@tensorflow/tfjs-backend-cpu') },
  webgl: { name: 'webgl', tfName: 'webgl', load: () => dynamicImport('@tensorflow/tfjs-backend-webgl') },
  webgpu: { name: 'webgpu', tfName: 'webgpu', load: () => dynamicImport('@tensorflow/tfjs-backend-webgpu') },
};

const AUTO_ORDER: Exclude<BackendName, 'auto'>[] = isNode
  ? ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']
  : ['webgpu', 'webgl', 'wasm', 'cpu'];

async function requireNode(name: string): Promise<unknown> {
  if (!isNode) throw new Error('native TensorFlow backends run only in Node.js');
  return dynamicImport(name);
}

function describe(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // Node says "Cannot find module/package"; bundlers and vite say "Could not resolve" / "Failed to resolve".
  if (/Cannot find (module|package)|MODULE_NOT_FOUND|(Could not|Failed to) resolve/.test(message)) return 'not installed';
  return message.split('\n')[0];
}

async function tryCandidate(candidate: Candidate, threads: number | undefined): Promise<BackendAttempt> {
  try {
    await candidate.load();
  } catch (err) {
    return { name: candidate.name, ok: false, reason: describe(err) };
  }
  if (candidate.name === 'wasm') await configureWasmThreads(threads);
  if (tf.findBackendFactory(candidate.tfName) == null) {
    return { name: candidate.name, ok: false, reason: `package loaded but registered no '${candidate.tfName}' backend` };
  }
  let ok: boolean;
  try {
    ok = await tf.setBackend(candidate.tfName);
  } catch (err) {
    return { name: candidate.name, ok: false, reason: `failed to initialise: ${describe(err)}` };
  }
  if (!ok) return { name: candidate.name, ok: false, reason: 'failed to initialise on this machine' };
  return { name: candidate.name, ok: true, reason: 'chosen' };
}


/**
 * Activates a tfjs backend. `auto` tries, in Node: tfjs-node-gpu, tfjs-node (optional peers, used only when
 * installed), wasm, cpu; in a browser: webgpu, webgl, wasm, cpu. The result says which one was chosen and why
 * every earlier one was passed over.
 */
export async function selectBackend(name: string = 'auto', options: SelectBackendOptions = {}): Promise<BackendChoice> {
  if (!(BACKEND_NAMES as readonly string[]).includes(name)) {
    throw new BackendError(`unknown backend '${name}': choose one of ${BACKEND_NAMES.join(', ')}`);
  }
  const threads = options.threads === undefined ? undefined : checkThreadCount(options.threads);
  const requested = name as BackendName;
  const order = requested === 'auto' ? AUTO_ORDER : [requested as Exclude<BackendName, 'auto'>];
  const attempts: BackendAttempt[] = [];
  for (const candidateName of order) {
    const attempt = await tryCandidate(CANDIDATES[candidateName], threads);
    attempts.push(attempt);
    if (attempt.ok) {
      await tf.ready();
      const active = tf.getBackend();
      return active === 'wasm'
        ? { name: active, requested, attempts, threads: await wasmThreadsInUse() }
        : { name: active, requested, attempts };
    }
  }
  const tried = attempts.map((a) => `${a.name} (${a.reason})`).join('; ');
  const valid = BACKEND_NAMES.join(', ');
  throw new BackendError(
    requested === 'auto'
      ? `no backend could be started: ${tried}`
      : `backend '${requested}' is unavailable: ${tried}. Valid names: ${valid}`,
  );
}

/**
 * One line for logs: `backend wasm, 2 threads (passed over: tensorflow-gpu: not installed; tensorflow: not
 * installed)`.
 */
export function describeBackendChoice(choice: BackendChoice): string {
  const skipped = choice.attempts.filter((a) => !a.ok).map((a) => `${a.name}: ${a.reason}`);
  const threads = choice.threads === undefined ? '' : `, ${choice.threads} thread${choice.threads === 1 ? '' : 's'}`;
  return `backend ${choice.name}${threads}` + (skipped.length > 0 ? ` (passed over: ${skipped.join('; ')})` : '');
}
