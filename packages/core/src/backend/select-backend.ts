import * as tf from '@tensorflow/tfjs-core';
import { findWebGpuAdapter, formatAdapter, registerWebGpuBackend, WEBGPU_HELP } from './webgpu-adapter';
import { checkWebGlPrecision, findWebGlRenderer } from './webgl-renderer';
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
  /** For webgpu and webgl: the adapter or renderer it runs on, e.g. `google swiftshader (SwiftShader driver 5.0.0), software`. */
  adapter?: string;
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

/** The device a GPU backend would run on, found before it starts. */
interface Device {
  adapter: string;
  /** A software renderer: correct, but no faster than the CPU backends, so `auto` passes it over. */
  software: boolean;
}

interface Candidate {
  name: Exclude<BackendName, 'auto'>;
  tfName: string;
  /** Loads the package that registers the backend; throws if it is not installed or cannot run here. */
  load: () => Promise<unknown>;
  /** The npm packages it needs, for the error when it is named and not installed. */
  install: string;
  /** For GPU backends: the device it would run on; throws (one line, with the fix) when there is none. */
  device?: () => Promise<Device>;
  /** Checked once the backend runs: throws when it would not compute in float32. */
  verify?: () => void;
}

const isNode = typeof process !== 'undefined' && process.versions?.node != null;

// Module names are held in variables so bundlers do not try to resolve optional native packages.
const dynamicImport = (name: string): Promise<unknown> => import(/* @vite-ignore */ name);

const CANDIDATES: Record<Exclude<BackendName, 'auto'>, Candidate> = {
  'tensorflow-gpu': {
    name: 'tensorflow-gpu',
    tfName: 'tensorflow',
    load: () => requireNode('@tensorflow/tfjs-node-gpu'),
    install: '@tensorflow/tfjs-node-gpu',
  },
  tensorflow: { name: 'tensorflow', tfName: 'tensorflow', load: () => requireNode('@tensorflow/tfjs-node'), install: '@tensorflow/tfjs-node' },
  wasm: { name: 'wasm', tfName: 'wasm', load: () => import('@tensorflow/tfjs-backend-wasm'), install: '@tensorflow/tfjs-backend-wasm' },
  cpu: { name: 'cpu', tfName: 'cpu', load: () => import('@tensorflow/tfjs-backend-cpu'), install: '@tensorflow/tfjs-backend-cpu' },
  webgl: {
    name: 'webgl',
    tfName: 'webgl',
    load: () => dynamicImport('@tensorflow/tfjs-backend-webgl'),
    install: '@tensorflow/tfjs-backend-webgl',
    device: async () => {
      if (isNode) throw new Error('WebGL runs only in a browser (in Node use webgpu)');
      const renderer = findWebGlRenderer();
      if (renderer == null) throw new Error('no WebGL2 or WebGL context in this browser');
      return { adapter: `${renderer.name}${renderer.software ? ', software' : ', hardware'}`, software: renderer.software };
    },
    verify: checkWebGlPrecision,
  },
  webgpu: {
    name: 'webgpu',
    tfName: 'webgpu',
    load: async () => registerWebGpuBackend(tf, await dynamicImport('@tensorflow/tfjs-backend-webgpu')),
    install: isNode ? 'webgpu @tensorflow/tfjs-backend-webgpu' : '@tensorflow/tfjs-backend-webgpu',
    device: async () => {
      let adapter;
      try {
        adapter = await findWebGpuAdapter();
      } catch (err) {
        throw err; // `not installed` when the `webgpu` package is missing
      }
      if (adapter == null) throw new Error(`no WebGPU adapter: ${WEBGPU_HELP}`);
      return { adapter: formatAdapter(adapter), software: adapter.software };
    },
  },
};

// A real GPU first: native CUDA, then WebGPU on a hardware adapter (a software one is passed over), then the CPU.
const AUTO_ORDER: Exclude<BackendName, 'auto'>[] = isNode
  ? ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu']
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

async function tryCandidate(candidate: Candidate, auto: boolean, threads: number | undefined): Promise<BackendAttempt & { adapter?: string }> {
  // The device first: tfjs's webgpu package registers its backend only where `navigator.gpu` already exists.
  let device: Device | undefined;
  if (candidate.device) {
    try {
      device = await candidate.device();
    } catch (err) {
      return { name: candidate.name, ok: false, reason: describe(err) };
    }
    if (auto && device.software) {
      return { name: candidate.name, ok: false, reason: `only a software adapter, ${device.adapter} (name it to use it anyway)` };
    }
  }
  // Already registered: the app imported the package itself (in a browser bundle it must: a bare dynamic import
  // cannot be resolved there).
  if (tf.findBackendFactory(candidate.tfName) == null) {
    try {
      await candidate.load();
    } catch (err) {
      return { name: candidate.name, ok: false, reason: describe(err) };
    }
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
  try {
    candidate.verify?.();
  } catch (err) {
    return { name: candidate.name, ok: false, reason: describe(err) };
  }
  return { name: candidate.name, ok: true, reason: 'chosen', ...(device ? { adapter: device.adapter } : {}) };
}

/** In Node, the packages to install; in a browser, the import the page's bundle needs. */
function installHint(candidate: Candidate): string {
  const first = candidate.install.split(' ').at(-1)!;
  return isNode ? `npm i ${candidate.install}` : `import '${first}' in the page's bundle (after npm i ${first})`;
}


/**
 * Activates a tfjs backend. `auto` tries, in Node: tfjs-node-gpu, webgpu (through the `webgpu` package), tfjs-node
 * (optional peers, used only when installed), wasm, cpu; in a browser: webgpu, webgl, wasm, cpu. `auto` takes a
 * GPU backend only on a hardware adapter; named, it runs on a software one too (SwiftShader: tests, CI). The result
 * says which one was chosen, on which adapter, and why every earlier one was passed over.
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
    const { adapter, ...attempt } = await tryCandidate(CANDIDATES[candidateName], requested === 'auto', threads);
    attempts.push(attempt);
    if (attempt.ok) {
      await tf.ready();
      const active = tf.getBackend();
      if (active === 'wasm') return { name: active, requested, attempts, threads: await wasmThreadsInUse() };
      return { name: active, requested, attempts, ...(adapter ? { adapter } : {}) };
    }
  }
  const tried = attempts
    .map((a) => `${a.name} (${a.reason}${requested !== 'auto' && a.reason === 'not installed' ? `: ${installHint(CANDIDATES[a.name])}` : ''})`)
    .join('; ');
  const valid = BACKEND_NAMES.join(', ');
  throw new BackendError(
    requested === 'auto'
      ? `no backend could be started: ${tried}`
      : `backend '${requested}' is unavailable: ${tried}. Valid names: ${valid}`,
  );
}

/**
 * One line for logs: `backend wasm, 2 threads (passed over: tensorflow-gpu: not installed; webgpu: no WebGPU
 * adapter: …)`, or `backend webgpu on google swiftshader (SwiftShader driver 5.0.0), software`.
 */
export function describeBackendChoice(choice: BackendChoice): string {
  const skipped = choice.attempts.filter((a) => !a.ok).map((a) => `${a.name}: ${a.reason}`);
  const threads = choice.threads === undefined ? '' : `, ${choice.threads} thread${choice.threads === 1 ? '' : 's'}`;
  const adapter = choice.adapter === undefined ? '' : ` on ${choice.adapter}`;
  return `backend ${choice.name}${threads}${adapter}` + (skipped.length > 0 ? ` (passed over: ${skipped.join('; ')})` : '');
}
