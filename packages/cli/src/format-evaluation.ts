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
