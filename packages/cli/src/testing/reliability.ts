// Test-only helpers for the reliability tests: a tiny training configuration, the run log, small disks.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One wasm thread: on a small shared machine threads cost more than they bring at this size. */
export const BACKEND = ['--backend', 'wasm', '--threads', '1'];

/** A model and data small enough for a step in tens of milliseconds: 32-pixel synthetic images, 4 per domain. */
export const TINY_RUN = [
  '--ngf', '4', '--ndf', '4', '--netF_nc', '16', '--num_patches', '16', '--max_dataset_size', '4',
  '--n_epochs', '2', '--n_epochs_decay', '1', '--crop_size', '32', '--load_size', '36', ...BACKEND,
];

export interface LogEntry {
  event: string;
  step: number;
  [key: string]: unknown;
}

export function readLog(runDir: string): LogEntry[] {
  let text: string;
  try {
    text = readFileSync(join(runDir, 'log.jsonl'), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as LogEntry];
      } catch {
        return []; // a line being written
      }
    });
}

/** The losses of each step of a log, keyed by step. */
export function stepLosses(entries: readonly LogEntry[]): Record<number, Record<string, unknown>> {
  const out: Record<number, Record<string, unknown>> = {};
  for (const { event, step, lr, G, G_GAN, NCE, NCE_Y, D, D_real, D_fake } of entries) {
    if (event === 'step') out[step] = { lr, G, G_GAN, NCE, NCE_Y, D, D_real, D_fake };
  }
  return out;
}

/**
 * Calls `act` between training steps as soon as `when` holds of the run's log, until it succeeds (returns
 * anything but false): a read-only remount, for one, is refused while a file is open for writing.
 */
export function whenLog(runDir: string, when: (entries: LogEntry[]) => boolean, act: () => boolean | void): () => void {
  let done = false;
  const timer = setInterval(() => {
    if (done || !when(readLog(runDir))) return;
    if (act() === false) return;
    done = true;
    clearInterval(timer);
  }, 2);
  return () => clearInterval(timer);
}

/** A small tmpfs of its own (root only): a disk that can fill up or turn read-only. */
export interface SmallDisk {
  dir: string;
  /** Remounts read-only or read-write; false when refused (a file is open for writing). */
  remount(mode: 'ro' | 'rw'): boolean;
  /** Fills the disk to the last byte (a file of that name). */
  fill(name: string): void;
  dispose(): void;
}

/** Mounts a tmpfs of `kib` KiB, or says why it cannot (the tests that need one are then skipped, visibly). */
export function mountSmallDisk(kib: number): SmallDisk | string {
  const dir = mkdtempSync(join(tmpdir(), 'qsattn-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kib}k`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    return `cannot mount a tmpfs (${(err as Error).message.split('\n')[0]}); run the tests as root to check disk-full and read-only saves`;
  }
  return {
    dir,
    remount: (mode) => {
      try {
        execFileSync('mount', ['-o', `remount,${mode}`, dir], { stdio: 'pipe' });
        return true;
      } catch {
        return false;
      }
    },
    fill: (name) => {
      mkdirSync(dir, { recursive: true });
      try {
        execFileSync('dd', ['if=/dev/zero', `of=${join(dir, name)}`, 'bs=4k'], { stdio: 'pipe' });
      } catch {
        // dd stops with ENOSPC: the disk is full, which is the point
      }
    },
    dispose: () => {
      try {
        execFileSync('umount', [dir], { stdio: 'pipe' });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
