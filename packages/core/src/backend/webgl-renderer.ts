// The WebGL renderer tfjs's webgl backend draws with, and the float32 check it must pass to compute what we compute.
import * as tf from '@tensorflow/tfjs-core';

export interface WebGlRenderer {
  /** The unmasked renderer string where the browser gives it (`ANGLE (Google, Vulkan 1.3.0 (SwiftShader …))`). */
  name: string;
  /** SwiftShader, llvmpipe, WARP and the like: correct but CPU-speed. */
  software: boolean;
}

const SOFTWARE_RENDERER = /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render|\bwarp\b/i;

/** The renderer of a fresh WebGL2 (else WebGL) context, or `undefined` where the page can make none. */
export function findWebGlRenderer(): WebGlRenderer | undefined {
  const doc = (globalThis as { document?: { createElement(tag: 'canvas'): HTMLCanvasElement } }).document;
  const canvas: HTMLCanvasElement | OffscreenCanvas | undefined =
    typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(1, 1) : doc?.createElement('canvas');
  if (canvas == null) return undefined;
  const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGLRenderingContext | null;
  if (gl == null) return undefined;
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  const name = String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return { name, software: SOFTWARE_RENDERER.test(name) };
}

/**
 * Our layers and gradients are exact in float32: the webgl backend must render to float32 textures. Where the
 * browser offers only half-float targets tfjs would silently compute in float16; refuse instead.
 */
export function checkWebGlPrecision(): void {
  const env = tf.env();
  if (env.getBool('WEBGL_FORCE_F16_TEXTURES')) throw new Error('WEBGL_FORCE_F16_TEXTURES is set: tfjs would compute in float16');
  if (!env.getBool('WEBGL_RENDER_FLOAT32_ENABLED')) {
    throw new Error('this WebGL offers no float32 render targets (EXT_color_buffer_float): tfjs would compute in float16');
  }
}
