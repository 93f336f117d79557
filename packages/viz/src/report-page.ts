// The run report (checkpoints/NAME/web/index.html): one self-contained page, readable from disk with no
// server — curves as inline SVG, the image grids and selection maps as PNG files beside it.
import { escapeHtml, pathAttr, PAGE_STYLE } from './html';

export type RunStatus = 'running' | 'done' | 'stopped' | 'failed';

export interface SnapshotMaps {
  /** The generator layer the features come from (`layer 12`). */
  layer: string;
  mode: string;
  numQueries: number;
  query: number;
  /** Paths relative to the page. */
  entropy: string;
  attention: string;
  /** How the attention row lies: `'global'`, or the local window (`'7×7 window'`). */
  extent: string;
}

export interface ReportSnapshot {
  epoch: number;
  step: number;
  /** `epoch 3`, `latest`, … */
  label: string;
  /** The real_A | fake_B | real_B | idt_B grid, relative to the page. */
  grid: string;
  maps: SnapshotMaps[];
}

export interface ReportData {
  title: string;
  status: RunStatus;
  /** One line about how the run ended or stands (the error of a failed run). */
  statusNote?: string;
  updated: Date;
  progress: { step: number; totalSteps: number; epoch?: number; lastEpoch?: number };
  /** Inline SVG of the curves (`curvesSvg`), or empty before the first step. */
  curvesSvg: string;
  /** Label/value rows: timings, backend, scores. */
  facts: [string, string][];
  /** Scores table (model vs identity), if the run was evaluated. */
  scores?: { header: string[]; rows: string[][] };
  /** The run's resolved options, shown as nested tables. */
  options: unknown;
  /** Newest first. */
  snapshots: ReportSnapshot[];
  /** While running, the page reloads itself every this many seconds (0: never). */
  refreshSeconds?: number;
}

function optionRows(value: unknown, prefix = ''): [string, string][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [[prefix, JSON.stringify(value)]];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? optionRows(v, prefix === '' ? k : `${prefix}.${k}`) : [[prefix === '' ? k : `${prefix}.${k}`, JSON.stringify(v)]],
  );
}

const kvTable = (rows: readonly [string, string][]): string =>
  `<table class="kv">${rows.map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`;

/** The figures of one snapshot's selection maps. */
export function mapFigures(maps: readonly SnapshotMaps[]): string {
  return maps
    .map(
      (m) => `<figure><img class="px" src="${pathAttr(m.entropy)}" width="256" alt="entropy map, ${escapeHtml(m.layer)}"><figcaption>${escapeHtml(m.layer)}: attention entropy (${escapeHtml(m.mode)}); yellow = low; the ${m.numQueries} selected queries outlined in red</figcaption></figure>
<figure><img class="px" src="${pathAttr(m.attention)}" width="256" alt="attention row, ${escapeHtml(m.layer)}"><figcaption>${escapeHtml(m.layer)}: attention of query ${m.query} (cyan), ${escapeHtml(m.extent)}</figcaption></figure>`,
    )
    .join('\n');
}

function snapshotSection(s: ReportSnapshot, open: boolean): string {
  const body = `<div class="maps"><figure><img src="${pathAttr(s.grid)}" alt="images at ${escapeHtml(s.label)}"><figcaption>real_A | fake_B | real_B | idt_B</figcaption></figure></div>
<h3>What QS-Attn selects</h3><div class="maps">${mapFigures(s.maps)}</div>`;
  return `<details${open ? ' open' : ''}><summary>${escapeHtml(s.label)} (step ${s.step})</summary>${body}</details>`;
}

export function reportPage(data: ReportData): string {
  const { progress } = data;
  const fraction = progress.totalSteps > 0 ? Math.min(1, progress.step / progress.totalSteps) : 0;
  const refresh = data.status === 'running' && (data.refreshSeconds ?? 0) > 0 ? `<meta http-equiv="refresh" content="${data.refreshSeconds}">` : '';
  const epoch = progress.epoch === undefined ? '' : `, epoch ${progress.epoch}${progress.lastEpoch === undefined ? '' : ` of ${progress.lastEpoch}`}`;
  const scores =
    data.scores === undefined
      ? ''
      : `<h3>Scores</h3><table class="kv"><tr>${data.scores.header.map((h) => `<td><b>${escapeHtml(h)}</b></td>`).join('')}</tr>${data.scores.rows
          .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`)
          .join('')}</table>`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">${refresh}<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(data.title)}</title><style>${PAGE_STYLE}</style></head>
<body><header><h1>${escapeHtml(data.title)}</h1><div class="sub"><span class="status ${data.status}">${data.status}</span> step ${progress.step} of ${progress.totalSteps}${epoch} · updated ${escapeHtml(data.updated.toISOString().replace('T', ' ').slice(0, 19))} UTC</div></header>
<main>
<section><h2>Progress</h2><div class="progress"><div style="width:${(fraction * 100).toFixed(1)}%"></div></div>${data.statusNote ? `<p>${escapeHtml(data.statusNote)}</p>` : ''}${kvTable(data.facts)}${scores}</section>
<section id="curves"><h2>Curves</h2>${data.curvesSvg === '' ? '<p class="note">No step logged yet.</p>' : `<div class="curves">${data.curvesSvg}</div><p class="note">Smoothed (exponential moving average, weight 0.6, as TensorBoard) over the raw values (faint).</p>`}</section>
<section id="images"><h2>Images and selection maps</h2>${data.snapshots.length === 0 ? '<p class="note">No checkpoint yet.</p>' : data.snapshots.map((s, i) => snapshotSection(s, i === 0)).join('\n')}</section>
<section id="options"><h2>Options</h2><details><summary>options.json</summary>${kvTable(optionRows(data.options))}</details></section>
</main></body></html>
`;
}
