import sharp from 'sharp';
import { describe, expect, test } from 'vitest';
import { gridPng, rasterPng, startDashboard } from './node';
import { filledRaster } from './raster';
import { reportPage } from './report-page';
import type { StepEntry } from './run-log';

describe('gridPng', () => {
  test('lays the images out in labelled cells of the given size', async () => {
    const red = filledRaster(8, 8, [255, 0, 0]);
    const blue = filledRaster(16, 16, [0, 0, 255]);
    const png = await gridPng(['a', 'b', 'c'], [{ images: [red, blue, null] }, { images: [blue, red, red] }], { cell: 32, margin: 4 });
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    // 3 columns of 32 px with 4 px margins; a 20 px header, 2 rows.
    expect([info.width, info.height]).toEqual([4 + 3 * 36, 20 + 4 + 2 * 36]);
    const at = (x: number, y: number): number[] => Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3));
    expect(at(4 + 16, 24 + 16)).toEqual([255, 0, 0]);
    expect(at(40 + 16, 24 + 16)).toEqual([0, 0, 255]);
    expect(at(76 + 16, 24 + 16)).toEqual([255, 255, 255]);
    expect(at(4 + 16, 60 + 16)).toEqual([0, 0, 255]);
    // Something (the label) is drawn in the header above column a.
    let dark = 0;
    for (let y = 0; y < 20; y++) for (let x = 4; x < 36; x++) if (at(x, y)[0] < 128) dark++;
    expect(dark).toBeGreaterThan(5);
    await expect(gridPng(['a'], [{ images: [red, red] }])).rejects.toThrow(/2 images for 1 columns/);
  });

  test('rasterPng keeps gray images gray', async () => {
    const png = await rasterPng({ width: 2, height: 1, channels: 1, data: Uint8Array.from([0, 200]) });
    expect((await sharp(png).metadata()).channels).toBe(1);
    const data = await sharp(png).extractChannel(0).raw().toBuffer();
    expect(Array.from(data)).toEqual([0, 200]);
  });
});

describe('reportPage', () => {
  test('escapes what it is given and reloads only while running', () => {
    const base = { title: 'run <x>', status: 'running' as const, updated: new Date(0), progress: { step: 1, totalSteps: 4 }, curvesSvg: '', facts: [['a&b', '<c>']] as [string, string][], options: { run: { name: 'x"y' } }, snapshots: [], refreshSeconds: 30 };
    const html = reportPage(base);
    expect(html).toContain('<title>run &lt;x&gt;</title>');
    expect(html).toContain('a&amp;b');
    expect(html).toContain('http-equiv="refresh" content="30"');
    expect(html).toContain('<div style="width:25.0%">');
    expect(reportPage({ ...base, status: 'done' })).not.toContain('http-equiv="refresh"');
  });
});

describe('startDashboard', () => {
  test('streams curves, rows, progress and status as server-sent events on 127.0.0.1', async () => {
    const dashboard = await startDashboard({ title: 't', port: 0 });
    expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(dashboard.url);
    expect(await page.text()).toContain('<script src="vega.min.js">');
    expect((await fetch(`${dashboard.url}vega.min.js`)).status).toBe(200);
    const step = (n: number): StepEntry => ({ event: 'step', step: n, epoch: 1, epochStep: n, lr: 1e-4, dataSeconds: 0, stepSeconds: 0.1, NCE: 5 - n });
    dashboard.addSteps([step(1)]);
    const response = await fetch(`${dashboard.url}events`);
    const reader = response.body!.getReader();
    dashboard.addSteps([step(2), step(3)]);
    dashboard.setProgress({ step: 3, totalSteps: 10 });
    await new Promise((r) => setTimeout(r, 400));
    dashboard.setStatus('done');
    await dashboard.close();
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    const events = text.split('\n\n').filter((e) => e.startsWith('event:')).map((e) => ({ name: /^event: (\w+)/.exec(e)![1], data: JSON.parse(e.split('\ndata: ')[1]) }));
    const curves = events.find((e) => e.name === 'curves')!;
    expect(curves.data.rows.filter((r: { metric: string }) => r.metric === 'NCE')).toEqual([{ step: 1, metric: 'NCE', value: 4, smoothed: 4 }]);
    const rows = events.filter((e) => e.name === 'rows').flatMap((e) => e.data.rows);
    expect(rows.filter((r: { metric: string }) => r.metric === 'NCE').map((r: { step: number }) => r.step)).toEqual([2, 3]);
    expect(events.find((e) => e.name === 'progress')!.data).toMatchObject({ step: 3, totalSteps: 10 });
    expect(events.at(-1)).toEqual({ name: 'status', data: { status: 'done' } });
  });

  test('a busy port is a clear error', async () => {
    const first = await startDashboard({ title: 't', port: 0 });
    const port = Number(new URL(first.url).port);
    await expect(startDashboard({ title: 't', port })).rejects.toThrow(`the dashboard's port ${port} on 127.0.0.1 is in use: choose another with --port N (0: any free port)`);
    await first.close();
  });
});
