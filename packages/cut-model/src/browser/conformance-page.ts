// The page side of the headless-browser conformance test: bundled for the browser (no Node built-ins), it replays a
// recording fetched from the test's server on the backend asked for and hands the report back.
import { describeBackendChoice, selectBackend } from '@qsattn/core';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs-core';
import { runConformance } from '../conformance/run-conformance';

async function replay(backend: string, url: string): Promise<unknown> {
  const choice = await selectBackend(backend);
  const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
  const before = tf.memory().numTensors;
  const start = performance.now();
  const report = await runConformance(bytes, url);
  return {
    backend: describeBackendChoice(choice),
    seconds: (performance.now() - start) / 1000,
    leaked: tf.memory().numTensors - before,
    float32: backend !== 'webgl' || tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED'),
    ok: report.ok,
    rows: report.rows,
    flipped: report.branches.flipped.map((u) => u.where),
  };
}

(globalThis as { qsattnConformance?: typeof replay }).qsattnConformance = replay;
