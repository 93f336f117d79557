// No leaks: over many training steps (checkpoints included) and many translations, tensors and the wasm heap
// stay flat after warm-up and RSS does not grow. The suite runs a short version; `npm run reliability` the
// long one (QSATTN_LEAK_STEPS, QSATTN_LEAK_TRANSLATIONS).
import { appendFileSync } from 'node:fs';
import { selectBackend } from '@qsattn/core';
import { beforeAll, expect, test } from 'vitest';
import { measureTraining, measureTranslations, type LeakFigures } from '../testing/leak-check';

const steps = Number(process.env.QSATTN_LEAK_STEPS) || 40;
const translations = Number(process.env.QSATTN_LEAK_TRANSLATIONS) || 100;
/** RSS may wander with the allocator; growth past this after warm-up counts as a leak. */
const RSS_SLACK = 48 * 2 ** 20;

beforeAll(async () => {
  await selectBackend('wasm', { threads: 1 });
});

function check(kind: string, figures: LeakFigures): void {
  const report = process.env.QSATTN_RELIABILITY_REPORT;
  if (report) appendFileSync(report, `${JSON.stringify({ kind, warm: figures.warm, end: figures.end, seconds: figures.seconds })}\n`);
  const after = figures.samples.filter((s) => s.at >= figures.warm.at);
  for (const s of after) {
    expect(s.tensors, `tensors at ${s.at}`).toBe(figures.warm.tensors);
    expect(s.heapBytes, `wasm heap at ${s.at}`).toBe(figures.warm.heapBytes);
  }
  expect(figures.end.rssBytes - figures.warm.rssBytes).toBeLessThan(RSS_SLACK);
}

test(`${steps} training steps: tensors and the wasm heap flat after warm-up, RSS not growing`, async () => {
  check('training', await measureTraining(steps, Math.max(1, Math.floor(steps / 20)), Math.min(20, Math.floor(steps / 3))));
}, 1_800_000);

test(`${translations} translations: tensors and the wasm heap flat after warm-up, RSS not growing`, async () => {
  check('translations', await measureTranslations(translations, Math.max(1, Math.floor(translations / 20)), Math.min(20, Math.floor(translations / 3))));
}, 1_800_000);
