// The page side of the headless-browser conformance test: bundled for the browser (no Node built-ins), it replays a
// recording fetched from the test's server on the backend asked for and hands the report back.
import { describeBackendChoice, selectBackend } from '@qsattn/core';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs-core';
import { runConformance } from '../conformance/run-conformance';

async function fetchBytes(url: string): Promise<Uint8Array> {
  return new Uint8Array(await (await fetch(url)).arrayBuffer());
}

/** Replays the recording at `url` on `backend`; `truthUrl` is its float64 replay, when it has one. */
async function replay(backend: string, url: string, truthUrl: string | null): Promise<unknown> {
  const choice = await selectBackend(backend);
  const bytes = await fetchBytes(url);
  const truth = truthUrl === null ? undefined : await fetchBytes(truthUrl);
  const before = tf.memory().numTensors;
  const start = performance.now();
  const report = await runConformance(bytes, url, { truth });
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
