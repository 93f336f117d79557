// Trains a small QS-Attn model in the browser on the built-in synthetic dataset (plain shapes → zebra-striped
// shapes), on webgpu or webgl, and shows the losses and the translations of a few test images as it goes.
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { describeBackendChoice, Rng, selectBackend } from '@qsattn/core';
import { CutModel, type StepLosses } from '@qsattn/cut-model';
import { contentKept, domainChanged, synthDataset, toByteImage, toFloatImage, type ByteImage } from '@qsattn/data/synth';
import { LossChart } from './loss-chart';

/** Settings, from the page's form or its URL (`?backend=webgl&steps=300&size=64&ngf=16&every=10`). */
interface Settings {
  backend: string;
  steps: number;
  size: number;
  ngf: number;
  /** Steps between refreshes of the translations. */
  every: number;
  seed: number;
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

const FIELDS = ['backend', 'steps', 'size', 'ngf', 'every', 'seed'] as const;

/** Fills the form from the URL's query, so that the page shows the settings it runs with. */
function applyQuery(): void {
  const query = new URLSearchParams(location.search);
  for (const name of FIELDS) {
    const field = document.getElementById(name) as HTMLInputElement | HTMLSelectElement | null;
    const value = query.get(name);
    if (field != null && value != null) field.value = value;
  }
}

function readSettings(): Settings {
  const number = (name: (typeof FIELDS)[number], fallback: number): number => {
    const value = Number(($(name) as HTMLInputElement | null)?.value ?? new URLSearchParams(location.search).get(name) ?? fallback);
    return Number.isFinite(value) && value > 0 ? Math.floor(value) : fallback;
  };
  return {
    backend: ($('backend') as HTMLSelectElement).value,
    steps: number('steps', 300),
    size: number('size', 64),
    ngf: number('ngf', 16),
    every: number('every', 10),
    seed: number('seed', 1),
  };
}

function toTensor(image: ByteImage): tf.Tensor4D {
  const { data, width, height, channels } = toFloatImage(image);
  return tf.tensor4d(data, [1, height, width, channels]);
}

function draw(canvas: HTMLCanvasElement, image: ByteImage): void {
  canvas.width = image.width;
  canvas.height = image.height;
  const pixels = new ImageData(image.width, image.height);
  for (let i = 0; i < image.width * image.height; i++) {
    pixels.data.set([image.data[3 * i], image.data[3 * i + 1], image.data[3 * i + 2], 255], 4 * i);
  }
  canvas.getContext('2d')!.putImageData(pixels, 0, 0);
}

/** The grid of test images: input, ours, ground truth. */
function makeGrid(count: number): { input: HTMLCanvasElement; output: HTMLCanvasElement; target: HTMLCanvasElement }[] {
  const grid = $('grid');
  grid.replaceChildren();
  return Array.from({ length: count }, () => {
    const cell = document.createElement('figure');
    const canvases = ['input', 'output', 'target'].map(() => cell.appendChild(document.createElement('canvas')));
    grid.appendChild(cell);
    return { input: canvases[0], output: canvases[1], target: canvases[2] };
  });
}

const status = (text: string): void => {
  $('status').textContent = text;
};

async function train(settings: Settings, chart: LossChart, stopRequested: () => boolean): Promise<void> {
  const choice = await selectBackend(settings.backend);
  $('backend-line').textContent = describeBackendChoice(choice);
  const data = synthDataset({ seed: settings.seed, size: settings.size, trainCount: 200, testCount: 4 });
  const model = new CutModel(
    // The CLI's synth-quick model: 4 ResNet blocks, a 2-layer discriminator, 64 patches of 64 channels.
    { qsMode: 'global', ngf: settings.ngf, ndf: settings.ngf, netG: 'resnet_4blocks', netD: 'n_layers', nLayersD: 2, netFNc: 64, numPatches: 64 },
    { seed: settings.seed },
  );
  const cells = makeGrid(data.testA.length);
  data.testA.forEach((test, i) => {
    draw(cells[i].input, test.image);
    draw(cells[i].target, data.testATarget[i].image);
  });
  const rng = new Rng(settings.seed);
  const pick = (list: { image: ByteImage }[]): ByteImage => list[Math.floor(rng.uniform() * list.length)].image;

  const showTranslations = async (step: number): Promise<void> => {
    let kept = 0;
    let changed = 0;
    for (const [i, test] of data.testA.entries()) {
      const input = toTensor(test.image);
      const output = model.translate(input);
      const values = (await output.data()) as Float32Array;
      tf.dispose([input, output]);
      const image = toByteImage({ width: settings.size, height: settings.size, channels: 3, data: values });
      draw(cells[i].output, image);
      kept += contentKept(image, test.image);
      changed += domainChanged(image);
    }
    const n = data.testA.length;
    $('measures').textContent = `after ${step} steps: content kept ${(kept / n).toFixed(2)}, domain changed ${(changed / n).toFixed(2)}`;
  };

  await showTranslations(0);
  const start = performance.now();
  try {
    for (let step = 1; step <= settings.steps && !stopRequested(); step++) {
      const [a, b] = [toTensor(pick(data.trainA)), toTensor(pick(data.trainB))];
      let losses: StepLosses;
      try {
        ({ losses } = await model.trainStepAsync(a, b));
      } finally {
        tf.dispose([a, b]);
      }
      chart.add(step, losses);
      const seconds = (performance.now() - start) / 1000;
      status(`step ${step}/${settings.steps} · ${(step / seconds).toFixed(2)} steps/s · ${tf.memory().numTensors} tensors`);
      if (step % settings.every === 0 || step === settings.steps) await showTranslations(step);
      document.body.dataset.step = String(step);
    }
    document.body.dataset.done = 'true';
  } finally {
    model.dispose();
  }
}

function main(): void {
  applyQuery();
  const chart = new LossChart($('chart') as unknown as HTMLCanvasElement, ['G_GAN', 'NCE', 'NCE_Y', 'D']);
  let running = false;
  let stop = false;
  const button = $('start') as HTMLButtonElement;
  const run = async (): Promise<void> => {
    if (running) {
      stop = true;
      return;
    }
    running = true;
    stop = false;
    button.textContent = 'Stop';
    chart.clear();
    try {
      await train(readSettings(), chart, () => stop);
      status(`${$('status').textContent} · done`);
    } catch (err) {
      status(`error: ${(err as Error).message}`);
      document.body.dataset.error = (err as Error).message;
    } finally {
      running = false;
      button.textContent = 'Train';
    }
  };
  button.addEventListener('click', () => void run());
  if (new URLSearchParams(location.search).has('autostart')) void run();
}

main();
