// @qsattn/viz: see what a QS-Attn / CUT run does — curves (Vega-Lite, rendered to SVG with no canvas or DOM),
// image grids, the query-selection maps of any NHWC features, and the run report. Works in Node and browsers;
// PNG encoding and the dashboard server are in `@qsattn/viz/node`.
export { parseRunLog, stepEntries, lossNames, LOSS_NAMES, STEP_FIELDS, type ParsedRunLog, type RunLogEntry, type StartEntry, type StepEntry, type CheckpointEntry, type EpochEntry, type EvalEntry } from './run-log';
export { EmaSmoother, smoothSeries } from './smoothing';
export {
  CurveRowBuilder,
  curveMetrics,
  curveRows,
  curvesSpec,
  curvesSvg,
  renderSvg,
  DATA_TIME,
  LEARNING_RATE,
  STEP_TIME,
  type CurveOptions,
  type CurveRow,
  type CurvesSpecOptions,
} from './curves';
export { blend, colorize, filledRaster, grayBackdrop, outlineCells, resizeNearest, schemeColors, tensorToRaster, toRgb, type Raster, type Rgb } from './raster';
export { selectionMaps, type AttentionExtent, type SelectionMap, type SelectionMapOptions } from './selection-maps';
export { attentionOnGrid, attentionPanel, entropyPanel, QUERY_COLOR, SELECTED_COLOR, type PanelOptions } from './selection-panels';
export { layoutGrid, type GridLayout, type GridRow } from './image-grid';
export { mapFigures, reportPage, type ReportData, type ReportSnapshot, type RunStatus, type SnapshotMaps } from './report-page';
export { dashboardPage } from './dashboard-page';
export { escapeHtml } from './html';
