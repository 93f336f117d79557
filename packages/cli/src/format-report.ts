import type { ConformanceReport, ConformanceRow } from '@qsattn/cut-model';
import { alignColumns } from './format-table';

function formatNumber(x: number): string {
  if (x === 0) return '0';
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : 'inf';
  return x.toExponential(2);
}

const tableRow = (r: ConformanceRow): string[] => [
  r.group,
  formatNumber(r.error),
  formatNumber(r.tolerance),
  String(r.count),
  (r.ok ? 'ok' : 'FAIL') + (r.judged === 'float64' ? ' (float64)' : ''),
];

/** A report as aligned text: a header line, one row per group, and a verdict with the time taken. */
export function formatReport(report: ConformanceReport, seconds: number): string {
  const rows = [['group', 'max error', 'tolerance', 'count', 'ok'], ...report.rows.map(tableRow)];
  const failed = report.rows.filter((r) => !r.ok);
  const time = `${seconds.toFixed(1)} s`;
  const verdict =
    failed.length === 0
      ? `ok: all ${report.rows.length} groups within tolerance (${time})`
      : `FAILED: ${failed.length} of ${report.rows.length} groups out of tolerance: ${failed.map((r) => r.group).join(', ')} (${time})`;
  const lines = [
    report.source,
    `  official args: ${report.options.join(' ')}`,
    ...alignColumns(rows, new Set([1, 2, 3])).map((line) => `  ${line}`),
  ];
  if (report.rows.some((r) => r.group.startsWith('after.'))) {
    lines.push('  (after.*: max error is the fraction of elements off by more than 1e-6)');
  }
  if (report.rows.some((r) => r.judged === 'float64')) {
    lines.push('  (float64: some tensors of the group, float32 noise in the recording itself, were judged against its float64 replay)');
  }
  const { flipped, nearKinks } = report.branches;
  if (flipped.length > 0) {
    lines.push(`  replayed on the official branch: ${flipped.length} of the step's ${nearKinks} rectifier input(s) within float32 rounding of 0`);
    for (const u of flipped) lines.push(`    ${u.where}: ours ${u.value.toExponential(2)} (largest ${u.scale.toExponential(2)})`);
  }
  lines.push(`  ${verdict}`, '');
  return lines.join('\n');
}
