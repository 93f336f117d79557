// The live dashboard: a small HTTP server (127.0.0.1 by default) that streams a run as server-sent events —
// curve rows as steps come, progress with ETA, the latest images and selection maps. It replaces the
// official code's visdom server, with nothing extra to install or start.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { compile } from 'vega-lite';
import { CurveRowBuilder, curveMetrics, curveRows, curvesSpec, type CurveRow } from './curves';
import { dashboardPage } from './dashboard-page';
import type { RunStatus } from './report-page';
import type { StepEntry } from './run-log';

export interface DashboardOptions {
  title: string;
  /** Default 127.0.0.1: only this machine can see the run. */
  host?: string;
  /** Default 8097 (the official display_port); 0 takes any free port. */
  port?: number;
  smoothing?: number;
}

export interface DashboardProgress {
  step: number;
  totalSteps: number;
  epoch?: number;
  lastEpoch?: number;
}

export interface DashboardSnapshot {
  step: number;
  label: string;
  grid: Buffer;
  maps: { layer: string; mode: string; numQueries: number; query: number; extent: string; entropy: Buffer; attention: Buffer }[];
}

export interface Dashboard {
  readonly url: string;
  /** Steps as logged (log.jsonl `step` entries). */
  addSteps(steps: readonly StepEntry[]): void;
  setProgress(progress: DashboardProgress): void;
  setSnapshot(snapshot: DashboardSnapshot): void;
  setStatus(status: RunStatus, note?: string): void;
  /** Sends what is pending, ends every stream and stops listening. */
  close(): Promise<void>;
}

/** How often pending rows and progress are sent, at most. */
const FLUSH_MS = 250;

let vegaScript: Buffer | undefined;
function vegaBrowserBuild(): Buffer {
  // vega's package exports only its module entry; the browser build sits beside it.
  vegaScript ??= readFileSync(join(dirname(createRequire(import.meta.url).resolve('vega')), 'vega.min.js'));
  return vegaScript;
}

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8097;
  const smoothing = options.smoothing ?? 0.6;
  const steps: StepEntry[] = [];
  const builder = new CurveRowBuilder(smoothing);
  let metrics: string[] = [];
  let pendingRows: CurveRow[] = [];
  let progress: (DashboardProgress & { stepsPerSecond?: number; etaSeconds?: number; elapsedSeconds: number }) | null = null;
  let rateStart: { step: number; time: number } | null = null;
  const started = performance.now();
  let snapshot: (DashboardSnapshot & { version: number }) | null = null;
  let status: { status: RunStatus; note?: string } = { status: 'running' };
  const clients = new Set<ServerResponse>();
  const page = dashboardPage(options.title);

  const send = (res: ServerResponse, event: string, data: unknown): void => {
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const broadcast = (event: string, data: unknown): void => {
    for (const res of clients) send(res, event, data);
  };
  const curvesEvent = (): { spec: unknown; rows: CurveRow[] } => ({
    spec: compile(curvesSpec({ metrics })).spec,
    rows: curveRows(steps, { smoothing, maxPoints: 2000 }),
  });
  const snapshotEvent = (s: NonNullable<typeof snapshot>): unknown => ({
    step: s.step,
    label: s.label,
    version: s.version,
    maps: s.maps.map(({ layer, mode, numQueries, query, extent }) => ({ layer, mode, numQueries, query, extent })),
  });

  const flush = (): void => {
    if (pendingRows.length > 0) {
      broadcast('rows', { rows: pendingRows });
      pendingRows = [];
    }
    if (progress !== null) broadcast('progress', progress);
  };
  const timer = setInterval(flush, FLUSH_MS);
  timer.unref();

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page);
    } else if (path === '/favicon.ico') {
      res.writeHead(204).end();
    } else if (path === '/vega.min.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'max-age=3600' }).end(vegaBrowserBuild());
    } else if (path === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write('retry: 2000\n\n');
      clients.add(res);
      req.on('close', () => clients.delete(res));
      if (metrics.length > 0) send(res, 'curves', curvesEvent());
      if (progress !== null) send(res, 'progress', progress);
      if (snapshot !== null) send(res, 'snapshot', snapshotEvent(snapshot));
      send(res, 'status', status);
      if (status.status !== 'running') res.end();
    } else {
      const m = /^\/snapshot\/(\d+)\/(grid|entropy-(\d+)|attention-(\d+))\.png$/.exec(path);
      const s = snapshot;
      const bytes =
        m === null || s === null ? undefined : m[2] === 'grid' ? s.grid : m[3] !== undefined ? s.maps[Number(m[3])]?.entropy : s.maps[Number(m[4])]?.attention;
      if (bytes === undefined) res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      else res.writeHead(200, { 'content-type': 'image/png', 'cache-control': 'max-age=3600' }).end(bytes);
    }
  };

  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new Error(
          err.code === 'EADDRINUSE'
            ? `the dashboard's port ${port} on ${host} is in use: choose another with --port N (0: any free port)`
            : `cannot start the dashboard on ${host}:${port}: ${err.message}`,
        ),
      );
    });
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${bound}/`;

  return {
    url,
    addSteps(entries) {
      if (entries.length === 0) return;
      steps.push(...entries);
      const now = curveMetrics(steps);
      if (now.join('\n') !== metrics.join('\n')) {
        // New metrics (the first steps): every client gets the spec with all rows so far.
        metrics = now;
        for (const entry of entries) builder.add(entry, metrics);
        pendingRows = [];
        broadcast('curves', curvesEvent());
        return;
      }
      for (const entry of entries) pendingRows.push(...builder.add(entry, metrics));
    },
    setProgress(p) {
      const time = performance.now();
      if (rateStart === null || p.step < rateStart.step) rateStart = { step: p.step, time };
      const seconds = (time - rateStart.time) / 1000;
      const stepsPerSecond = seconds > 0 && p.step > rateStart.step ? (p.step - rateStart.step) / seconds : undefined;
      progress = {
        ...p,
        stepsPerSecond,
        etaSeconds: stepsPerSecond === undefined ? undefined : Math.max(0, p.totalSteps - p.step) / stepsPerSecond,
        elapsedSeconds: (time - started) / 1000,
      };
    },
    setSnapshot(s) {
      snapshot = { ...s, version: (snapshot?.version ?? 0) + 1 };
      broadcast('snapshot', snapshotEvent(snapshot));
    },
    setStatus(next, note) {
      status = { status: next, note };
      flush();
      broadcast('status', status);
    },
    async close() {
      clearInterval(timer);
      if (status.status === 'running') flush();
      for (const res of clients) res.end();
      clients.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };
}
