import type { StepLosses } from '@qsattn/cut-model';

/** Where progress is drawn: a terminal gets a bar redrawn in place, anything else plain lines. */
export interface ProgressSink {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface StepProgress {
  step: number;
  totalSteps: number;
  epoch: number;
  lastEpoch: number;
  losses: StepLosses;
  lr: number;
}

const LOSS_ORDER: (keyof StepLosses)[] = ['G', 'G_GAN', 'NCE', 'NCE_Y', 'D', 'D_real', 'D_fake'];

function formatLosses(losses: StepLosses): string {
  return LOSS_ORDER.filter((k) => losses[k] !== undefined)
    .map((k) => `${k} ${losses[k]!.toFixed(3)}`)
    .join('  ');
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Steps per second over the last few steps (so the rate follows the machine's load, and the first step's setup fades). */
class RateWindow {
  private times: number[] = [];
  constructor(private readonly size = 20) {}

  add(now: number): void {
    this.times.push(now);
    if (this.times.length > this.size + 1) this.times.shift();
  }

  get perSecond(): number {
    const n = this.times.length - 1;
    return n < 1 ? NaN : (n * 1000) / (this.times[n] - this.times[0]);
  }
}

/**
 * Draws training progress: on a terminal, one line redrawn in place (at most 10 times a second) — a bar, step,
 * epoch, it/s, ETA and the current losses; elsewhere a plain line every `every` steps. `message` prints a line
 * above the bar.
 */
export class ProgressReporter {
  private readonly rate = new RateWindow();
  private lastDraw = 0;
  private drawn = false;
  private last: StepProgress | undefined;

  constructor(
    private readonly sink: ProgressSink,
    private readonly every: number,
    /** The last step this invocation will take (`--max_steps` or the run's end), for the ETA. */
    private readonly stopStep: number,
  ) {}

  get tty(): boolean {
    return this.sink.isTTY === true;
  }

  step(p: StepProgress): void {
    const now = performance.now();
    this.rate.add(now);
    this.last = p;
    if (this.tty) {
      if (now - this.lastDraw >= 100 || p.step === this.stopStep) {
        this.lastDraw = now;
        this.draw(p);
      }
    } else if (p.step % this.every === 0 || p.step === this.stopStep) {
      this.sink.write(`${this.describe(p)}\n`);
    }
  }

  message(text: string): void {
    if (this.tty && this.drawn) this.sink.write('\r\x1b[2K');
    this.sink.write(`${text}\n`);
    if (this.tty && this.last !== undefined) this.draw(this.last);
  }

  /** Leaves the bar as it is and moves below it. */
  finish(): void {
    if (this.tty && this.drawn) this.sink.write('\n');
    this.drawn = false;
  }

  private describe(p: StepProgress): string {
    const rate = this.rate.perSecond;
    const eta = (this.stopStep - p.step) / rate;
    const speed = Number.isFinite(rate) ? `${rate.toFixed(2)} it/s` : '- it/s';
    return `step ${p.step}/${p.totalSteps}  epoch ${p.epoch}/${p.lastEpoch}  ${speed}  ETA ${formatDuration(eta)}  lr ${p.lr.toExponential(1)}  ${formatLosses(p.losses)}`;
  }

  private draw(p: StepProgress): void {
    const width = 20;
    const filled = Math.round((width * p.step) / Math.max(1, p.totalSteps));
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
    let line = `${bar} ${this.describe(p)}`;
    if (this.sink.columns !== undefined && line.length > this.sink.columns - 1) line = line.slice(0, this.sink.columns - 1);
    this.sink.write(`\r\x1b[2K${line}`);
    this.drawn = true;
  }
}

/** How far a set of translations is. */
export interface ImagesProgress {
  done: number;
  failed: number;
  total: number;
}

/**
 * Draws translation progress: on a terminal a bar redrawn in place (at most 10 times a second) with images/s and
 * ETA; elsewhere a plain line at every tenth of the set.
 */
export class ImagesProgressReporter {
  private readonly rate = new RateWindow();
  private lastDraw = 0;
  private drawn = false;

  constructor(private readonly sink: ProgressSink) {
    // The rate counts from the start, so the first images' time (and the threads' start) is in it.
    this.rate.add(performance.now());
  }

  update(p: ImagesProgress): void {
    const now = performance.now();
    this.rate.add(now);
    const last = p.done === p.total;
    if (this.sink.isTTY === true) {
      if (now - this.lastDraw < 100 && !last) return;
      this.lastDraw = now;
      const width = 20;
      const filled = Math.round((width * p.done) / Math.max(1, p.total));
      let line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.describe(p)}`;
      if (this.sink.columns !== undefined && line.length > this.sink.columns - 1) line = line.slice(0, this.sink.columns - 1);
      this.sink.write(`\r\x1b[2K${line}`);
      this.drawn = true;
    } else if (last || p.done % Math.max(1, Math.ceil(p.total / 10)) === 0) {
      this.sink.write(`${this.describe(p)}\n`);
    }
  }

  /** Moves below the bar. */
  finish(): void {
    if (this.drawn) this.sink.write('\n');
    this.drawn = false;
  }

  private describe(p: ImagesProgress): string {
    const rate = this.rate.perSecond;
    const speed = Number.isFinite(rate) ? `${rate.toFixed(2)} images/s` : '- images/s';
    const failed = p.failed > 0 ? `  ${p.failed} failed` : '';
    return `${p.done}/${p.total} images  ${speed}  ETA ${formatDuration((p.total - p.done) / rate)}${failed}`;
  }
}
