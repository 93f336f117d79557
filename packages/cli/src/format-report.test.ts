import type { ConformanceReport } from '@qsattn/cut-model';
import { describe, expect, test } from 'vitest';
import { formatReport } from './format-report';

const report = (over: Partial<ConformanceReport>): ConformanceReport => ({
  source: 'rec.safetensors',
  options: ['--QS_mode', 'global'],
  rows: [
    { group: 'loss', error: 1e-7, tolerance: 1e-5, ok: true, count: 7 },
    { group: 'grad.G', error: 2e-4, tolerance: 1e-3, ok: true, count: 48 },
    { group: 'nceB.grad_feat_k', error: 2.8e-10, tolerance: 5.7e-10, ok: true, count: 5, judged: 'float64' },
  ],
  ok: true,
  branches: { flipped: [], nearKinks: 0 },
  ...over,
});

describe('formatReport', () => {
  test('marks the groups judged against a float64 replay and says what that means', () => {
    const text = formatReport(report({}), 1.25);
    expect(text).toMatch(/^ {2}nceB\.grad_feat_k +2\.80e-10 +5\.70e-10 +5 {2}ok \(float64\)$/m);
    expect(text).toMatch(/^ {2}grad\.G +2\.00e-4 +1\.00e-3 +48 {2}ok$/m);
    expect(text).toMatch(/judged against its float64 replay/);
    expect(text).toMatch(/ok: all 3 groups within tolerance \(1\.2 s\)|ok: all 3 groups within tolerance \(1\.3 s\)/);
    expect(text).not.toMatch(/official branch/);
  });

  test('lists each rectifier unit replayed on the official branch', () => {
    const unit = { site: 'G(real):model.19.conv_block.3.', index: 1234, shape: [2, 18, 18, 32], value: -1.43e-6, scale: 4.69, upstream: 1e-3, slope: 0 };
    const text = formatReport(report({ branches: { flipped: [{ ...unit, where: 'G(real):model.19.conv_block.3 (image 0, row 1, column 2, channel 18)' }], nearKinks: 84 } }), 1);
    expect(text).toContain("replayed on the official branch: 1 of the step's 84 rectifier input(s) within float32 rounding of 0");
    expect(text).toContain('    G(real):model.19.conv_block.3 (image 0, row 1, column 2, channel 18): ours -1.43e-6 (largest 4.69e+0)');
  });
});
