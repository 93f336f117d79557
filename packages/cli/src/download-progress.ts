import { formatBytes, type DownloadProgress, type ExtractProgress } from '@qsattn/data';
import { formatDuration, type ProgressSink } from './progress';

/**
 * Draws a download: on a terminal a bar redrawn in place (at most 10 times a second) with bytes, rate and ETA;
 * elsewhere a line at every tenth of the file (or every 16 MiB when the size is unknown).
 */
export class DownloadProgressBar {
  private lastDraw = 0;
  private drawn = false;
  private lastStep = -1;

  constructor(
    private readonly sink: ProgressSink,
    private readonly label: string,
    /** A line written before the first progress of the download (so that nothing is said when nothing is fetched). */
    private header?: string,
  ) {}

  private start(): void {
    if (this.header === undefined) return;
    this.sink.write(`${this.header}\n`);
    this.header = undefined;
  }

  download(p: DownloadProgress): void {
    this.start();
    const done = p.total !== undefined && p.received >= p.total;
    if (this.sink.isTTY === true) {
      const now = performance.now();
      if (now - this.lastDraw < 100 && !done) return;
      this.lastDraw = now;
      this.draw(this.describe(p), p.total === undefined ? undefined : p.received / Math.max(1, p.total));
      return;
    }
    const step = p.total !== undefined ? Math.floor((10 * p.received) / Math.max(1, p.total)) : Math.floor(p.received / (16 * 1024 ** 2));
    if (step !== this.lastStep) {
      this.lastStep = step;
      this.sink.write(`${this.label}: ${this.describe(p)}\n`);
    }
  }

  extract(p: ExtractProgress): void {
    const text = `extracting ${p.entries}/${p.totalEntries} entries, ${formatBytes(p.bytes)} of ${formatBytes(p.totalBytes)}`;
    if (this.sink.isTTY === true) {
      const now = performance.now();
      if (now - this.lastDraw < 100 && p.entries < p.totalEntries) return;
      this.lastDraw = now;
      this.draw(text, p.entries / Math.max(1, p.totalEntries));
    } else if (p.entries === p.totalEntries) {
      this.sink.write(`${this.label}: ${text}\n`);
    }
  }

  /** A line above the bar (a retry, a note). */
  message(text: string): void {
    this.start();
    if (this.drawn) this.sink.write('\r\x1b[2K');
    this.drawn = false;
    this.sink.write(`${text}\n`);
  }

  /** Moves below the bar. */
  finish(): void {
    if (this.drawn) this.sink.write('\n');
    this.drawn = false;
  }

  private describe(p: DownloadProgress): string {
    const size = p.total === undefined ? formatBytes(p.received) : `${formatBytes(p.received)} of ${formatBytes(p.total)}`;
    const rate = Number.isFinite(p.bytesPerSecond) ? `  ${formatBytes(p.bytesPerSecond)}/s` : '';
    const eta = p.etaSeconds !== undefined && Number.isFinite(p.etaSeconds) ? `  ETA ${formatDuration(p.etaSeconds)}` : '';
    const resumed = p.resumedFrom > 0 ? `  (resumed at ${formatBytes(p.resumedFrom)})` : '';
    return `${size}${rate}${eta}${resumed}`;
  }

  private draw(text: string, fraction: number | undefined): void {
    const width = 20;
    const filled = fraction === undefined ? 0 : Math.min(width, Math.round(width * fraction));
    const bar = fraction === undefined ? '' : `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] `;
    let line = `${bar}${this.label} ${text}`;
    if (this.sink.columns !== undefined && line.length > this.sink.columns - 1) line = line.slice(0, this.sink.columns - 1);
    this.sink.write(`\r\x1b[2K${line}`);
    this.drawn = true;
  }
}
