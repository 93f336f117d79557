// Test-only: webgpu in Node on whatever Vulkan the machine has, else on SwiftShader (the software Vulkan that
// Debian's chromium ships), so that GPU tests run on machines and CI without a GPU.
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { selectBackend } from '../backend/select-backend';

const SWIFTSHADER_ICDS = [
  '/usr/lib/chromium/vk_swiftshader_icd.json', // Debian, Ubuntu's deb: chromium-common
  '/usr/lib64/chromium-browser/vk_swiftshader_icd.json', // Fedora
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
];

/** Where SwiftShader's Vulkan ICD is on this machine, if anywhere. */
export function findSwiftShaderIcd(): string | undefined {
  return SWIFTSHADER_ICDS.find((path) => existsSync(path));
}

export type WebGpuForTests = { ok: true; adapter: string } | { ok: false; reason: string };

/**
 * Starts the webgpu backend for a test file: on the machine's own Vulkan driver when `VK_ICD_FILENAMES` is set,
 * else on SwiftShader. `ok: false` says why not, for a visible skip (and a failure under CI, which must run them).
 */
export async function startWebGpuForTests(): Promise<WebGpuForTests> {
  if (process.env.VK_ICD_FILENAMES == null) {
    const icd = findSwiftShaderIcd();
    if (icd == null) return { ok: false, reason: 'no Vulkan for webgpu: SwiftShader not found (apt-get install chromium), VK_ICD_FILENAMES unset' };
    process.env.VK_ICD_FILENAMES = icd; // read by the Vulkan loader when Dawn starts, below
  }
  process.env.XDG_RUNTIME_DIR ??= tmpdir();
  try {
    const choice = await selectBackend('webgpu');
    return { ok: true, adapter: choice.adapter ?? 'unknown adapter' };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}
