// Training curves as data: long-form rows (one per step and metric, raw and smoothed) and the Vega-Lite spec
// that draws them as TensorBoard's scalars page does (one chart per metric, smoothed line over the faint raw one).
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { lossNames, type StepEntry } from './run-log';
import { EmaSmoother } from './smoothing';

export interface CurveRow {
  step: number;
  metric: string;
  value: number;
  smoothed: number;
}

/** The metrics besides the losses: the learning rate and the seconds of each step (compute) and of its data. */
export const LEARNING_RATE = 'learning rate';
export const STEP_TIME = 'step time (s)';
export const DATA_TIME = 'data wait (s)';

export interface CurveOptions {
  /** TensorBoard's smoothing weight, 0 (raw) to <1. Default 0.6, TensorBoard's. */
  smoothing?: number;
  /**
   * At most this many points per metric: a longer series is cut into equal runs of steps, each drawn as one
   * point (mean of the raw values, smoothed value at its last step). Default 1000, so that a 400k-step run
   * stays a small page.
   */
  maxPoints?: number;
}

/** The metric names the rows of these steps have, in chart order (losses, then learning rate and timings). */
export function curveMetrics(steps: readonly StepEntry[]): string[] {
  return [...lossNames(steps), LEARNING_RATE, STEP_TIME, DATA_TIME];
}

function metricValue(entry: StepEntry, metric: string): number | undefined {
  const v = metric === LEARNING_RATE ? entry.lr : metric === STEP_TIME ? entry.stepSeconds : metric === DATA_TIME ? entry.dataSeconds : entry[metric];
  return typeof v === 'number' ? v : undefined;
}

/**
 * Incremental rows: feed steps as they come (the dashboard), read the rows each adds. Smoothing state is kept
 * per metric, so rows fed one by one equal rows of the whole series.
 */
export class CurveRowBuilder {
  private readonly smoothers = new Map<string, EmaSmoother>();
  readonly smoothing: number;

  constructor(smoothing = 0.6) {
    this.smoothing = smoothing;
  }

  add(entry: StepEntry, metrics: readonly string[]): CurveRow[] {
    const rows: CurveRow[] = [];
    for (const metric of metrics) {
      const value = metricValue(entry, metric);
      if (value === undefined) continue;
      let ema = this.smoothers.get(metric);
      if (ema === undefined) this.smoothers.set(metric, (ema = new EmaSmoother(this.smoothing)));
      // The learning rate is a schedule, not a noisy measurement: smoothing it would only blur its steps.
      rows.push({ step: entry.step, metric, value, smoothed: metric === LEARNING_RATE ? value : ema.next(value) });
    }
    return rows;
  }
}

/** The rows of a whole log's steps, smoothed, and thinned to `maxPoints` per metric. */
export function curveRows(steps: readonly StepEntry[], options: CurveOptions = {}): CurveRow[] {
  const maxPoints = options.maxPoints ?? 1000;
  if (!Number.isInteger(maxPoints) || maxPoints < 2) throw new RangeError(`maxPoints must be an integer ≥ 2, got ${maxPoints}`);
  const metrics = curveMetrics(steps);
  const builder = new CurveRowBuilder(options.smoothing ?? 0.6);
  const byMetric = new Map<string, CurveRow[]>(metrics.map((m) => [m, []]));
  for (const entry of steps) for (const row of builder.add(entry, metrics)) byMetric.get(row.metric)!.push(row);
  const rows: CurveRow[] = [];
  for (const series of byMetric.values()) {
    if (series.length <= maxPoints) {
      rows.push(...series);
      continue;
    }
    const size = Math.ceil(series.length / maxPoints);
    for (let start = 0; start < series.length; start += size) {
      const run = series.slice(start, start + size);
      const last = run[run.length - 1];
      rows.push({ step: last.step, metric: last.metric, value: run.reduce((s, r) => s + r.value, 0) / run.length, smoothed: last.smoothed });
    }
  }
  return rows;
}

export interface CurvesSpecOptions {
  /** The metrics to chart, in order (default: those in the rows, in `curveMetrics` order). */
  metrics?: readonly string[];
  /** Charts per row. Default 3. */
  columns?: number;
  /** Size of one chart in pixels. Default 260 × 140. */
  width?: number;
  height?: number;
  /** Inline rows; without them the spec reads the named data set `curves` (filled by `View.insert`). */
  values?: readonly CurveRow[];
}

/** The Vega-Lite spec of the curves: one chart per metric, independent y axes, smoothed line over the raw one. */
export function curvesSpec(options: CurvesSpecOptions = {}): TopLevelSpec {
  const x = { field: 'step', type: 'quantitative', title: 'step' } as const;
  const tooltip = [
    { field: 'metric', type: 'nominal' },
    { field: 'step', type: 'quantitative' },
    { field: 'value', type: 'quantitative', format: '.4g' },
    { field: 'smoothed', type: 'quantitative', format: '.4g' },
  ];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: options.values === undefined ? { name: 'curves' } : { name: 'curves', values: options.values as CurveRow[] },
    facet: {
      field: 'metric',
      type: 'nominal',
      title: null,
      ...(options.metrics === undefined ? {} : { sort: [...options.metrics] }),
      header: { labelFontSize: 13, labelFontWeight: 'bold' },
    },
    columns: options.columns ?? 3,
    spec: {
      width: options.width ?? 260,
      height: options.height ?? 140,
      layer: [
        { mark: { type: 'line', opacity: 0.25, color: '#1f77b4', strokeWidth: 1 }, encoding: { x, y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } } } },
        { mark: { type: 'line', color: '#1f77b4', strokeWidth: 1.8 }, encoding: { x, y: { field: 'smoothed', type: 'quantitative', title: null }, tooltip } },
      ],
    },
    resolve: { scale: { y: 'independent', x: 'independent' } },
    config: { view: { stroke: '#ddd' }, axis: { labelFontSize: 10, gridColor: '#eee' } },
  } as TopLevelSpec;
}

/** Renders a Vega-Lite spec to SVG text, in Node or a browser, with no canvas or DOM. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The curves of a run's steps as one SVG (an empty string when there is no step yet). */
export async function curvesSvg(steps: readonly StepEntry[], options: CurveOptions & Omit<CurvesSpecOptions, 'values'> = {}): Promise<string> {
  if (steps.length === 0) return '';
  const values = curveRows(steps, options);
  return renderSvg(curvesSpec({ ...options, metrics: options.metrics ?? curveMetrics(steps), values }));
}
