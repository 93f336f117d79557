// The losses as lines on a canvas, one colour each, raw values faint and an exponential moving average on top
// (as TensorBoard's smoothing), with the latest values in the legend.
import type { StepLosses } from '@qsattn/cut-model';

const COLOURS = ['#1f77b4', '#d62728', '#ff7f0e', '#2ca02c', '#9467bd'];
const SMOOTHING = 0.8;

export class LossChart {
  private readonly series = new Map<keyof StepLosses, { raw: [number, number][]; smooth: [number, number][] }>();

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly names: (keyof StepLosses)[],
  ) {
    this.clear();
  }

  clear(): void {
    for (const name of this.names) this.series.set(name, { raw: [], smooth: [] });
    this.draw();
  }

  add(step: number, losses: StepLosses): void {
    for (const name of this.names) {
      const value = losses[name];
      if (value === undefined) continue;
      const s = this.series.get(name)!;
      const last = s.smooth.at(-1)?.[1];
      s.raw.push([step, value]);
      s.smooth.push([step, last === undefined ? value : SMOOTHING * last + (1 - SMOOTHING) * value]);
    }
    this.draw();
  }

  private draw(): void {
    const ctx = this.canvas.getContext('2d')!;
    const { width, height } = this.canvas;
    const pad = { left: 44, right: 8, top: 24, bottom: 22 };
    ctx.clearRect(0, 0, width, height);
    const all = [...this.series.values()].flatMap((s) => s.raw);
    ctx.font = '12px system-ui, sans-serif';
    ctx.fillStyle = '#555';
    if (all.length === 0) {
      ctx.fillText('losses appear here once training starts', pad.left, height / 2);
      return;
    }
    const maxStep = Math.max(2, ...all.map(([x]) => x));
    const maxValue = Math.max(...all.map(([, y]) => y)) * 1.05;
    const x = (step: number): number => pad.left + ((step - 1) / (maxStep - 1)) * (width - pad.left - pad.right);
    const y = (value: number): number => height - pad.bottom - (value / maxValue) * (height - pad.top - pad.bottom);
    ctx.strokeStyle = '#ccc';
    ctx.strokeRect(pad.left, pad.top, width - pad.left - pad.right, height - pad.top - pad.bottom);
    ctx.fillText(maxValue.toFixed(2), 4, pad.top + 4);
    ctx.fillText('0', 4, height - pad.bottom);
    ctx.fillText(`step ${maxStep}`, width - pad.right - 60, height - 6);
    ctx.fillText('step 1', pad.left, height - 6);
    let legendX = pad.left;
    this.names.forEach((name, i) => {
      const s = this.series.get(name)!;
      if (s.raw.length === 0) return;
      const colour = COLOURS[i % COLOURS.length];
      for (const [points, alpha, lineWidth] of [[s.raw, 0.25, 1], [s.smooth, 1, 2]] as const) {
        ctx.globalAlpha = alpha;
        ctx.strokeStyle = colour;
        ctx.lineWidth = lineWidth;
        ctx.beginPath();
        points.forEach(([step, value], k) => (k === 0 ? ctx.moveTo(x(step), y(value)) : ctx.lineTo(x(step), y(value))));
        ctx.stroke();
      }
      ctx.globalAlpha = 1;
      ctx.fillStyle = colour;
      const label = `${name} ${s.raw.at(-1)![1].toFixed(3)}`;
      ctx.fillText(label, legendX, 14);
      legendX += ctx.measureText(label).width + 16;
    });
    ctx.lineWidth = 1;
  }
}
