// The wasm backend's thread count, and its multithreaded SIMD build started in Node, where tfjs 4.22 turns
// threads off (flags_wasm: IS_NODE → no threads, tensorflow/tfjs#3830).
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { BackendError } from './errors';

/** XNNPACK's pool in tfjs-backend-wasm 4.22 is built with 8 pre-created workers and never uses more (cc/backend.cc). */
export const MAX_WASM_THREADS = 8;

const isNode = typeof process !== 'undefined' && process.versions?.node != null;

/** Node's own modules, by a computed name: browser bundles then leave them out (they are used in Node only). */
const nodeModule = <T>(name: string): Promise<T> => import(/* @vite-ignore */ name) as Promise<T>;

/** The number of logical cores here: Node's `availableParallelism()`, a browser's `hardwareConcurrency`, else 1. */
export async function logicalCores(): Promise<number> {
  if (isNode) {
    const os = await nodeModule<typeof import('node:os')>('node:os');
    return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  }
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return Math.max(1, nav?.hardwareConcurrency ?? 1);
}

/** The thread count the wasm backend uses when none is asked for: every core, up to the pool's 8. */
export async function defaultWasmThreads(): Promise<number> {
  return Math.min(MAX_WASM_THREADS, await logicalCores());
}

/** `threads` checked: a whole number from 1 up (more than 8 runs on 8). */
export function checkThreadCount(threads: number): number {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new BackendError(`threads must be a whole number from 1 up (got ${threads}); e.g. --threads 2`);
  }
  return Math.min(threads, MAX_WASM_THREADS);
}

interface EmscriptenModule {
  cwrap: (name: string, returnType: string | null, argTypes: string[]) => (...args: number[]) => unknown;
  PThread?: { runningWorkers: { unref(): void }[]; unusedWorkers: { unref(): void }[] };
  [key: string]: unknown;
}

type ThreadedFactory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;

interface WasmPackage {
  BackendWasm: new (module: unknown) => BackendWasm;
  setThreadsCount(threads: number): void;
  getThreadsCount(): number;
}

type BackendFactory = () => tf.KernelBackend | Promise<tf.KernelBackend>;

/** The factory tfjs-backend-wasm registered itself, kept so a one-thread choice can go back to it. */
let packageFactory: BackendFactory | undefined;
/** The wasm factory this module registered last, and its thread count. */
let registered: { factory: BackendFactory; threads: number } | undefined;

const WASM_PRIORITY = 2; // tfjs-backend-wasm's own

function runningWasm(): BackendWasm | undefined {
  const registry = (tf.engine() as unknown as { registry: Record<string, tf.KernelBackend | undefined> }).registry;
  return registry.wasm as BackendWasm | undefined;
}

/** The threads the running wasm backend uses, or `undefined` when it is not started. */
export async function wasmThreadsInUse(): Promise<number | undefined> {
  if (runningWasm() == null) return undefined;
  const pkg = (await import('@tensorflow/tfjs-backend-wasm')) as unknown as WasmPackage;
  return pkg.getThreadsCount();
}

/**
 * Makes the next start of the wasm backend use `requested` threads (default every core, up to 8). In Node, more than one thread means the
 * package's multithreaded SIMD build, started here (see startThreadedWasm); one thread means the package's own
 * single-threaded build. In a browser the package itself decides whether threads can run (cross-origin isolation)
 * and this only sets the count. If the backend is already running, its count is kept, and asking for another is an
 * error: the pool is made once, when the backend starts. Returns the count.
 */
export async function configureWasmThreads(requested?: number): Promise<number> {
  const wanted = requested === undefined ? undefined : checkThreadCount(requested);
  const pkg = (await import('@tensorflow/tfjs-backend-wasm')) as unknown as WasmPackage;
  if (runningWasm() != null) {
    const inUse = pkg.getThreadsCount();
    // (A browser may run fewer than asked: tfjs caps the pool at half the cores there.)
    if (isNode && wanted !== undefined && inUse !== wanted) {
      throw new BackendError(
        `the wasm backend is already running on ${inUse} thread${inUse === 1 ? '' : 's'}: choose the thread count before it starts (the first selectBackend call), or tf.removeBackend('wasm') first`,
      );
    }
    return inUse;
  }
  const threads = wanted ?? (await defaultWasmThreads());
  pkg.setThreadsCount(threads);
  if (!isNode) return threads;
  const current = tf.findBackendFactory('wasm');
  if (current != null && current === registered?.factory && registered.threads === threads) return threads;
  if (packageFactory === undefined) {
    if (current == null) throw new BackendError("tfjs-backend-wasm registered no 'wasm' backend");
    packageFactory = current;
  }
  if (threads === 1 && current === packageFactory) return threads;
  if (current != null) tf.removeBackend('wasm');
  const factory = threads === 1 ? packageFactory : () => startThreadedWasm(pkg, threads);
  tf.registerBackend('wasm', factory, WASM_PRIORITY);
  registered = { factory, threads };
  return threads;
}

/**
 * Starts tfjs-backend-wasm's threaded SIMD build in Node, doing what its loader does in a browser with what Node
 * accepts: the pthread worker script (shipped as a string, handed to `Worker` as a Blob URL, which Node refuses)
 * is written to a temporary file; the worker loads the main script from the package's own file instead of a
 * Blob; and the core count the C++ side reads (it takes half of it, for hyper-threads) is set so the pool has
 * exactly `threads` threads. The pool's workers are unreferenced, so they never keep the process alive: they only
 * ever run work the main thread hands them while it waits.
 */
async function startThreadedWasm(pkg: WasmPackage, threads: number): Promise<tf.KernelBackend> {
  const [{ createRequire }, fs, os, path] = await Promise.all([
    nodeModule<typeof import('node:module')>('node:module'),
    nodeModule<typeof import('node:fs')>('node:fs'),
    nodeModule<typeof import('node:os')>('node:os'),
    nodeModule<typeof import('node:path')>('node:path'),
  ]);
  const require = createRequire(import.meta.url);
  const out = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out');
  const mainScript = path.join(out, 'tfjs-backend-wasm-threaded-simd.js');
  const factory = require(mainScript) as ThreadedFactory;
  const { wasmWorkerContents } = require(path.join(out, 'tfjs-backend-wasm-threaded-simd.worker.js')) as {
    wasmWorkerContents: string;
  };
  const workerScript = path.join(
    fs.mkdtempSync(path.join(os.tmpdir(), 'qsattn-wasm-')),
    'tfjs-backend-wasm-threaded-simd.worker.cjs',
  );
  // As tfjs's loader does for its Blob: the string's newlines stand for "\n" escapes inside its literals.
  fs.writeFileSync(workerScript, wasmWorkerContents.replace(/\n/g, '\\n'));
  const binary = fs.readFileSync(path.join(out, 'tfjs-backend-wasm-threaded-simd.wasm'));
  const listening = { uncaughtException: process.listeners('uncaughtException'), unhandledRejection: process.listeners('unhandledRejection') };
  let failed!: (err: unknown) => void;
  const instantiateFailed = new Promise<never>((_, reject) => (failed = reject));
  const module = await Promise.race([instantiateFailed, factory({
    locateFile: (file: string) => (file.endsWith('.worker.js') ? workerScript : path.join(out, file)),
    mainScriptUrlOrBlob: mainScript,
    instantiateWasm: (
      info: { env: Record<string, unknown> },
      receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void,
    ) => {
      info.env.emscripten_num_logical_cores = () => 2 * threads;
      WebAssembly.instantiate(binary, info as WebAssembly.Imports).then(
        ({ instance, module: compiled }) => receive(instance, compiled),
        failed,
      );
      return {};
    },
  })]);
  // Emscripten's Node glue adds listeners that rethrow every uncaught error from inside its one-line script,
  // so a user's own error would print as that whole line; Node's defaults already end the process.
  for (const listener of process.listeners('uncaughtException')) {
    if (!listening.uncaughtException.includes(listener)) process.removeListener('uncaughtException', listener);
  }
  for (const listener of process.listeners('unhandledRejection')) {
    if (!listening.unhandledRejection.includes(listener)) process.removeListener('unhandledRejection', listener);
  }
  // The names tfjs's own loader gives these C functions.
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  const backend = new pkg.BackendWasm(module);
  fs.rmSync(path.dirname(workerScript), { recursive: true, force: true }); // every worker has read it by now
  for (const worker of [...(module.PThread?.runningWorkers ?? []), ...(module.PThread?.unusedWorkers ?? [])]) {
    worker.unref();
  }
  return backend;
}
