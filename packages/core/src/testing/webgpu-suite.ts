// Test-only: how a test file that needs webgpu in Node declares itself (see startWebGpuForTests).
import { describe, expect, test } from 'vitest';
import { startWebGpuForTests, type WebGpuForTests } from './webgpu';

/**
 * Starts webgpu (on SwiftShader where the machine has no GPU) and returns a `describe` for the file's tests: skipped,
 * with the reason in its title, where no Vulkan is available — except under CI, which must run them, where a test
 * fails with that reason instead.
 */
export async function webgpuSuite(): Promise<{ gpu: WebGpuForTests; describeGpu: (name: string, fn: () => void) => void }> {
  const gpu = await startWebGpuForTests();
  const mustRun = process.env.CI != null && process.env.CI !== '' && process.env.CI !== 'false';
  const describeGpu = (name: string, fn: () => void): void => {
    if (gpu.ok) describe(`${name} (webgpu on ${gpu.adapter})`, fn);
    else if (mustRun) test(`${name}: webgpu must run under CI`, () => expect.fail(gpu.reason));
    else describe.skip(`${name} (skipped: ${gpu.reason})`, fn);
  };
  return { gpu, describeGpu };
}
