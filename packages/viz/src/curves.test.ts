import { describe, expect, test } from 'vitest';
import { curveMetrics, curveRows, curvesSvg, LEARNING_RATE, STEP_TIME } from './curves';
import { parseRunLog, stepEntries, type StepEntry } from './run-log';
import { smoothSeries } from './smoothing';

function steps(n: number): StepEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    event: 'step',
    step: i + 1,
    epoch: 1,
    epochStep: i + 1,
    lr: 0.0002,
    dataSeconds: 0.01,
    stepSeconds: 0.5 + (i % 3) * 0.01,
    D_real: 0.3,
    D_fake: 0.25,
    G_GAN: 0.5 + Math.sin(i) * 0.1,
    NCE: 4 - i * 0.01,
    NCE_Y: 4.2 - i * 0.01,
    D: 0.27,
    G: 5,
  }));
}

describe('parseRunLog', () => {
  test('reads entries and counts a half-written last line instead of throwing', () => {
    const text = `${JSON.stringify({ event: 'start', step: 0 })}\n${JSON.stringify(steps(1)[0])}\n\n[1]\n{"event":"st`;
    const { entries, badLines } = parseRunLog(text);
    expect(entries.map((e) => e.event)).toEqual(['start', 'step']);
    expect(badLines).toEqual([4, 5]);
    expect(stepEntries(entries)).toHaveLength(1);
  });
});

describe('smoothing', () => {
  test("is TensorBoard's debiased EMA", () => {
    const values = [1, 2, 3, 10];
    const w = 0.6;
    let last = 0;
    const expected = values.map((v, i) => ((last = last * w + (1 - w) * v), last / (1 - w ** (i + 1))));
    expect(smoothSeries(values, w)).toEqual(expected);
    expect(smoothSeries(values, 0)).toEqual(values);
    // The first point is not pulled towards zero.
    expect(smoothSeries([5], 0.9)[0]).toBeCloseTo(5, 12);
    expect(() => smoothSeries(values, 1)).toThrow(/smoothing weight/);
  });
});

describe('curves', () => {
  test('one series per loss, then learning rate and timings, official losses first', () => {
    expect(curveMetrics(steps(2))).toEqual(['D_real', 'D_fake', 'G_GAN', 'NCE', 'NCE_Y', 'D', 'G', LEARNING_RATE, STEP_TIME, 'data wait (s)']);
  });

  test('rows are thinned to maxPoints per metric, keeping the last step', () => {
    const rows = curveRows(steps(1000), { maxPoints: 100 });
    const nce = rows.filter((r) => r.metric === 'NCE');
    expect(nce).toHaveLength(100);
    expect(nce.at(-1)!.step).toBe(1000);
    // Mean of the raw values of steps 991..1000.
    expect(nce.at(-1)!.value).toBeCloseTo(4 - 0.01 * 994.5, 9);
    expect(curveRows(steps(50), { maxPoints: 100 }).filter((r) => r.metric === 'NCE')).toHaveLength(50);
  });

  test('the SVG has a chart per metric with a step axis and a raw and a smoothed line', async () => {
    const svg = await curvesSvg(steps(30));
    expect(svg.startsWith('<svg')).toBe(true);
    for (const metric of curveMetrics(steps(1))) expect(svg).toContain(`>${metric}</text>`);
    // Ten charts, two lines each.
    expect(svg.match(/aria-roledescription="line mark"/g)).toHaveLength(20);
    expect((svg.match(/>step<\/text>/g) ?? []).length).toBeGreaterThanOrEqual(1);
    expect(await curvesSvg([])).toBe('');
  });
});
