// What the in-browser examples share: the backend (webgpu, then webgl, then wasm; ?backend=NAME forces one),
// and drawing 8-bit images on canvases.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import '@qsattn/core';

export const BACKEND_ORDER = ['webgpu', 'webgl', 'wasm'] as const;

let chosen: Promise<string> | undefined;

/** The first backend of BACKEND_ORDER that starts here (once per page). */
export function pickBackend(): Promise<string> {
  chosen ??= (async () => {
    setWasmPaths({ 'tfjs-backend-wasm.wasm': wasm, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd });
    const forced = new URLSearchParams(location.search).get('backend');
    const order = forced ? [forced] : [...BACKEND_ORDER];
    const failed: string[] = [];
    for (const name of order) {
      try {
        if (await tf.setBackend(name)) {
          await tf.ready();
          return name;
        }
        failed.push(`${name}: did not start`);
      } catch (err) {
        failed.push(`${name}: ${(err as Error).message}`);
      }
    }
    throw new Error(`no TensorFlow.js backend started (${failed.join('; ')})`);
  })();
  return chosen;
}

export interface Pixels {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

/** Draws an 8-bit RGB (or gray) image on a canvas, at its own size (CSS scales it). */
export function drawPixels(canvas: HTMLCanvasElement, image: Pixels): void {
  canvas.width = image.width;
  canvas.height = image.height;
  const rgba = new ImageData(image.width, image.height);
  for (let i = 0; i < image.width * image.height; i++) {
    for (let c = 0; c < 3; c++) rgba.data[4 * i + c] = image.data[image.channels * i + (image.channels === 3 ? c : 0)];
    rgba.data[4 * i + 3] = 255;
  }
  canvas.getContext('2d')!.putImageData(rgba, 0, 0);
}

/** An image file (an upload) as RGB bytes, scaled to `width × height`. */
export async function fileToPixels(file: Blob, width: number, height: number): Promise<Pixels> {
  const bitmap = await createImageBitmap(file);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d')!;
  context.drawImage(bitmap, 0, 0, width, height);
  const { data } = context.getImageData(0, 0, width, height);
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) rgb.set(data.subarray(4 * i, 4 * i + 3), 3 * i);
  return { width, height, channels: 3, data: rgb };
}
