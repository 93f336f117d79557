import { describe, expect, test } from 'vitest';
import { formatDuration, ImagesProgressReporter, ProgressReporter } from './progress';

const losses = { D_fake: 0.1, D_real: 0.2, D: 0.15, G_GAN: 0.5, NCE: 2, NCE_Y: 2.1, G: 2.55 };
const progress = (step: number) => ({ step, totalSteps: 4, epoch: 1, lastEpoch: 2, losses, lr: 2e-4 });

describe('ProgressReporter', () => {
  test('without a terminal: a plain line every N steps and at the last one', () => {
    let out = '';
    const reporter = new ProgressReporter({ write: (t: string) => (out += t) }, 2, 3);
    for (const step of [1, 2, 3]) reporter.step(progress(step));
    reporter.finish();
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^step 2\/4 {2}epoch 1\/2 {2}\S+ it\/s {2}ETA \S+ {2}lr 2\.0e-4 {2}G 2\.550 {2}G_GAN 0\.500 {2}NCE 2\.000 {2}NCE_Y 2\.100 {2}D 0\.150 {2}D_real 0\.200 {2}D_fake 0\.100$/);
    expect(lines[1]).toMatch(/^step 3\/4 .* ETA 0s /);
    expect(out).not.toContain('\r');
  });

  test('on a terminal: one bar redrawn in place, messages above it, a newline at the end', () => {
    let out = '';
    const reporter = new ProgressReporter({ write: (t: string) => (out += t), isTTY: true, columns: 200 }, 100, 4);
    reporter.step(progress(1));
    reporter.message('saved');
    reporter.step(progress(4));
    reporter.finish();
    expect(out.startsWith('\r\x1b[2K[#####...............] step 1/4')).toBe(true);
    expect(out).toContain('\r\x1b[2Ksaved\n\r\x1b[2K[#####');
    expect(out).toMatch(/\r\x1b\[2K\[#{20}\] step 4\/4 [^\n]*\n$/);
  });

  test('durations', () => {
    expect([formatDuration(5.4), formatDuration(125), formatDuration(7300), formatDuration(NaN)]).toEqual(['5s', '2m05s', '2h01m', '?']);
  });
});

describe('ImagesProgressReporter', () => {
  test('without a terminal: a line at every tenth of the set and at the end, with images/s, ETA and failures', () => {
    let out = '';
    const reporter = new ImagesProgressReporter({ write: (t: string) => (out += t) });
    for (let done = 1; done <= 20; done++) reporter.update({ done, failed: done > 5 ? 1 : 0, total: 20 });
    reporter.finish();
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(10);
    expect(lines[0]).toMatch(/^2\/20 images {2}\d+\.\d{2} images\/s {2}ETA \S+$/);
    expect(lines[9]).toMatch(/^20\/20 images {2}\S+ images\/s {2}ETA 0s {2}1 failed$/);
  });

  test('on a terminal: a bar redrawn in place, ending full with a newline', () => {
    let out = '';
    const reporter = new ImagesProgressReporter({ write: (t: string) => (out += t), isTTY: true, columns: 200 });
    reporter.update({ done: 1, failed: 0, total: 4 });
    reporter.update({ done: 4, failed: 0, total: 4 });
    reporter.finish();
    expect(out.startsWith('\r\x1b[2K[#####...............] 1/4 images')).toBe(true);
    expect(out).toMatch(/\r\x1b\[2K\[#{20}\] 4\/4 images [^\n]*\n$/);
  });
});
