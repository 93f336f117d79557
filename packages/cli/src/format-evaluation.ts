import { alignColumns } from './format-table';
import { SCORE_NAMES, type Evaluation, type Scores } from './run/translate-images';

/** An evaluation as a table: one row per measure, the model beside the identity baseline. */
export function formatEvaluation(e: Evaluation): string {
  const rows = [['measure', 'model', 'identity']];
  for (const key of Object.keys(SCORE_NAMES) as (keyof Scores)[]) {
    const model = e.model[key];
    const identity = e.identity[key];
    if (model === undefined || identity === undefined) continue;
    const digits = key === 'psnr' ? 2 : 3;
    rows.push([SCORE_NAMES[key], model.toFixed(digits), identity.toFixed(digits)]);
  }
  return `${alignColumns(rows, new Set([1, 2]))
    .map((line) => `  ${line}`)
    .join('\n')}\n  (${e.images} test images)\n`;
}

/** What a good translation of the built-in synthetic dataset scores (the main job's quality figures). */
export const SYNTH_GOALS: readonly { key: keyof Scores; bound: 'at least' | 'at most'; value: number }[] = [
  { key: 'objectIoU', bound: 'at least', value: 0.9 },
  { key: 'stripeContrast', bound: 'at least', value: 0.7 },
  { key: 'backgroundChange', bound: 'at most', value: 0.02 },
];

/** One line saying which of `SYNTH_GOALS` the model's scores meet (empty when the scores lack them). */
export function formatSynthGoals(scores: Scores): string {
  const parts: string[] = [];
  let met = 0;
  for (const goal of SYNTH_GOALS) {
    const value = scores[goal.key];
    if (value === undefined) return '';
    const ok = goal.bound === 'at least' ? value >= goal.value : value <= goal.value;
    if (ok) met++;
    parts.push(`${SCORE_NAMES[goal.key]} ${goal.bound === 'at least' ? '≥' : '≤'} ${goal.value.toFixed(2)} ${ok ? 'met' : 'NOT met'}`);
  }
  return `  goals: ${met} of ${SYNTH_GOALS.length} met (${parts.join('; ')})\n`;
}
