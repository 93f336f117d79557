// The WebGPU adapter tfjs's webgpu backend will run on: in Node provided by the `webgpu` package (Dawn's binding,
// which drives the machine's Vulkan, Metal or D3D12 driver), in a browser by `navigator.gpu`.
import type * as tfc from '@tensorflow/tfjs-core';

/** What the adapter says about itself (`GPUAdapterInfo`), and whether it is a software one. */
export interface WebGpuAdapterInfo {
  vendor: string;
  architecture: string;
  description: string;
  /** A fallback or software adapter (SwiftShader, lavapipe/llvmpipe, WARP): correct but CPU-speed. */
  software: boolean;
}

interface AdapterLike {
  isFallbackAdapter?: boolean;
  info?: { vendor?: string; architecture?: string; description?: string; device?: string; isFallbackAdapter?: boolean };
}

interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<AdapterLike | null>;
}

const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render|\bwarp\b/i;

/** Reads an adapter's info; `software` when it says it is a fallback adapter or names a software renderer. */
export function describeAdapter(adapter: AdapterLike): WebGpuAdapterInfo {
  const info = adapter.info ?? {};
  const vendor = info.vendor ?? '';
  const architecture = info.architecture ?? '';
  const description = info.description || info.device || '';
  const fallback = info.isFallbackAdapter === true || adapter.isFallbackAdapter === true;
  return { vendor, architecture, description, software: fallback || SOFTWARE_ADAPTER.test(`${vendor} ${architecture} ${description}`) };
}

/** `google swiftshader (SwiftShader driver 5.0.0), software`. */
export function formatAdapter(info: WebGpuAdapterInfo): string {
  const name = [info.vendor, info.architecture].filter((s) => s !== '').join(' ') || 'unnamed adapter';
  return `${name}${info.description ? ` (${info.description})` : ''}${info.software ? ', software' : ', hardware'}`;
}

const isNode = typeof process !== 'undefined' && process.versions?.node != null;

/** What to do when no adapter is found, for the error message. */
export const WEBGPU_HELP = isNode
  ? 'install the `webgpu` package (npm i webgpu) and a Vulkan, Metal or D3D12 driver; on Linux without a GPU, SwiftShader (Debian: chromium-common) works when VK_ICD_FILENAMES is set to its vk_swiftshader_icd.json'
  : 'this browser offers no WebGPU adapter (try a recent Chrome or Edge, or another backend)';

// Held in a variable so bundlers leave the optional native package alone.
const WEBGPU_PACKAGE = 'webgpu';

let installed: Promise<void> | undefined;

/**
 * In Node, makes Dawn's WebGPU the global `navigator.gpu` (and its `GPU*` constants global), as tfjs's webgpu backend
 * expects; in a browser, nothing. Throws `not installed` style errors when the `webgpu` package is missing.
 */
export function provideNavigatorGpu(): Promise<void> {
  installed ??= (async () => {
    const g = globalThis as { navigator?: { gpu?: unknown } };
    if (g.navigator?.gpu != null || !isNode) return;
    const { create, globals } = (await import(/* @vite-ignore */ WEBGPU_PACKAGE)) as {
      create: (flags: string[]) => GpuLike;
      globals: Record<string, unknown>;
    };
    for (const [name, value] of Object.entries(globals)) {
      if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value;
    }
    const gpu = create([]);
    if (g.navigator == null) {
      Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    } else {
      Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    }
  })().catch((err: unknown) => {
    installed = undefined;
    throw err;
  });
  return installed;
}

/** The adapter tfjs will get (it asks for the high-performance one), or `undefined` when there is none. */
export async function findWebGpuAdapter(): Promise<WebGpuAdapterInfo | undefined> {
  await provideNavigatorGpu();
  const gpu = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
  if (gpu == null) return undefined;
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  return adapter == null ? undefined : describeAdapter(adapter);
}

interface DeviceAdapter {
  features: { has(name: string): boolean };
  limits: Record<string, number>;
  info?: unknown;
  requestDevice(descriptor: { requiredFeatures: string[]; requiredLimits: Record<string, number> }): Promise<unknown>;
}

/**
 * tfjs's webgpu package registers its backend when it is first imported, and only if `navigator.gpu` exists by
 * then; imported earlier (before `provideNavigatorGpu`), it registered nothing. This registers the same factory
 * (the adapter's limits, as the package asks for them) from the package's exported `WebGPUBackend`.
 */
export function registerWebGpuBackend(tf: typeof tfc, pkg: unknown): void {
  const { WebGPUBackend } = pkg as { WebGPUBackend?: new (device: unknown, info?: unknown) => tfc.KernelBackend };
  const gpu = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
  if (WebGPUBackend == null || gpu == null || tf.findBackendFactory('webgpu') != null) return;
  tf.registerBackend(
    'webgpu',
    async () => {
      const adapter = (await gpu.requestAdapter({ powerPreference: 'high-performance' })) as unknown as DeviceAdapter | null;
      if (adapter == null) throw new Error('no WebGPU adapter');
      const limits = adapter.limits;
      const device = await adapter.requestDevice({
        requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
        requiredLimits: Object.fromEntries(
          [
            'maxComputeWorkgroupStorageSize',
            'maxComputeWorkgroupsPerDimension',
            'maxStorageBufferBindingSize',
            'maxBufferSize',
            'maxComputeWorkgroupSizeX',
            'maxComputeInvocationsPerWorkgroup',
          ].map((name) => [name, limits[name]]),
        ),
      });
      return new WebGPUBackend(device, adapter.info);
    },
    3,
  );
}
