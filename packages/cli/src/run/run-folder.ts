import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../write-file';
import { InputError } from '../io';
import { RUN_OPTIONS_FORMAT, type SavedRunOptions } from '../options/run-options';

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
    let saved: SavedRunOptions;
    try {
      saved = JSON.parse(readFileSync(this.optionsPath, 'utf8')) as SavedRunOptions;
    } catch (err) {
      throw new InputError(`cannot read ${this.optionsPath}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
    if (saved?.format !== RUN_OPTIONS_FORMAT) {
      throw new InputError(`${this.optionsPath} is not the options of a qsattn run (format ${JSON.stringify(saved?.format)}, expected ${RUN_OPTIONS_FORMAT})`);
    }
    return saved;
  }

  async writeOptions(options: SavedRunOptions): Promise<void> {
    await writeFileAtomic(this.optionsPath, `${JSON.stringify(options, null, 2)}\n`);
  }

  appendLog(entry: Record<string, unknown>): void {
    appendFileSync(this.logPath, `${JSON.stringify(entry)}\n`);
  }

  /**
   * Keeps the log up to `step`: entries of steps a checkpoint does not cover (written after the last save of a run
   * that then died) are dropped, so that a resumed run's log reads as one run's.
   */
  async truncateLog(step: number): Promise<void> {
    if (!existsSync(this.logPath)) return;
    const kept = readFileSync(this.logPath, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .filter((line) => {
        const entry = JSON.parse(line) as { step?: number };
        return entry.step === undefined || entry.step <= step;
      });
    await writeFileAtomic(this.logPath, kept.map((line) => `${line}\n`).join(''));
  }
}
