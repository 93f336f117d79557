import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../write-file';
import { InputError } from '../io';
import { parseSavedRunOptions, type SavedRunOptions } from '../options/run-options';

/**
 * The files of a run folder, `CHECKPOINTS_DIR/NAME/`:
 * - `options.json`: the resolved options (`SavedRunOptions`);
 * - `latest_checkpoint.safetensors`, `<epoch>_checkpoint.safetensors`: our checkpoints (weights, Adam state, step,
 *   RNG and loader state), named like the official `latest_net_G.pth` / `<epoch>_net_G.pth`;
 * - `log.jsonl`: one JSON object per line — `start`, `step` (losses and timings), `checkpoint`, `epoch`, `eval`.
 */
export class RunFolder {
  constructor(readonly dir: string) {}

  static of(checkpointsDir: string, name: string): RunFolder {
    return new RunFolder(join(checkpointsDir, name));
  }

  get optionsPath(): string {
    return join(this.dir, 'options.json');
  }

  get logPath(): string {
    return join(this.dir, 'log.jsonl');
  }

  checkpointPath(epoch: string | number): string {
    return join(this.dir, `${epoch}_checkpoint.safetensors`);
  }

  /** The official generator file of an epoch (`latest_net_G.pth`). */
  officialGeneratorPath(epoch: string | number): string {
    return join(this.dir, `${epoch}_net_G.pth`);
  }

  hasOptions(): boolean {
    return existsSync(this.optionsPath);
  }

  readOptions(): SavedRunOptions {
    let text: string;
    try {
      text = readFileSync(this.optionsPath, 'utf8');
    } catch (err) {
      throw new InputError(`cannot read ${this.optionsPath}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
    return parseSavedRunOptions(text, this.optionsPath);
  }

  async writeOptions(options: SavedRunOptions): Promise<void> {
    await writeFileAtomic(this.optionsPath, `${JSON.stringify(options, null, 2)}\n`);
  }

  appendLog(entry: Record<string, unknown>): void {
    try {
      appendFileSync(this.logPath, `${JSON.stringify(entry)}\n`);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOSPC' ? 'no space left on the device' : code === 'EROFS' ? 'the file system is read-only' : (err as Error).message;
      throw new InputError(`cannot append to ${this.logPath}: ${why}`);
    }
  }

  /** The log's entries (see `parseRunLog`); none when there is no log yet. */
  readLog(): RunLog {
    let text: string;
    try {
      text = readFileSync(this.logPath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], tornTail: false };
      throw new InputError(`cannot read ${this.logPath}: ${(err as Error).message}`);
    }
    return parseRunLog(text, this.logPath);
  }

  /**
   * Keeps the log up to `step`: entries of steps a checkpoint does not cover (written after the last save of a run
   * that then died) are dropped, and so is a last line a kill cut short, so that a resumed run's log reads as one
   * run's.
   */
  async truncateLog(step: number): Promise<void> {
    if (!existsSync(this.logPath)) return;
    const kept = this.readLog().entries.filter((entry) => entry.step === undefined || entry.step <= step);
    await writeFileAtomic(this.logPath, kept.map((entry) => `${JSON.stringify(entry)}\n`).join(''));
  }
}

/** One line of `log.jsonl`: an `event` and, for most, the `step` it happened at. */
export interface LogEntry {
  event?: string;
  step?: number;
  [key: string]: unknown;
}

export interface RunLog {
  entries: LogEntry[];
  /** Whether the last line was cut short (the run was killed while appending it) and left out. */
  tornTail: boolean;
}

/**
 * Parses a run log: one JSON object per line. A last line without its newline that does not parse is what a
 * kill mid-append leaves, and is left out; any other line that is not a JSON object with an integer `step`
 * (when it has one) is an InputError naming the file and line.
 */
export function parseRunLog(text: string, path: string): RunLog {
  const lines = text.split('\n');
  const entries: LogEntry[] = [];
  let tornTail = false;
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      if (i === lines.length - 1) {
        tornTail = true;
        continue;
      }
      throw new InputError(`${path}: line ${i + 1} is not JSON; delete that line (or the file) to continue`);
    }
    const step = (entry as LogEntry | null)?.step;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry) || (step !== undefined && !(Number.isSafeInteger(step) && step >= 0))) {
      throw new InputError(`${path}: line ${i + 1} is not a log entry (a JSON object with an integer step); delete that line (or the file) to continue`);
    }
    entries.push(entry as LogEntry);
  }
  return { entries, tornTail };
}
