// One writer per run folder. The lock is a file, `.lock`, naming its holder (pid, host, start time). It appears
// whole or not at all (written aside, then hard-linked into place), so a kill can never leave a half-written
// one; a lock whose process is gone (same host) is taken over, so a killed run does not block its resume.
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../io';

export const LOCK_FILE = '.lock';

/** Tokens of the locks this process holds now: a lock naming this pid with another token was left behind. */
const heldHere = new Set<string>();

interface Holder {
  pid: number;
  host: string;
  since: string;
  /** Tells two holders with a reused pid apart. */
  token: string;
}

/** Whether process `pid` exists on this host (EPERM: it does, under another user). */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): Holder | null | 'gone' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw err;
  }
  try {
    const holder = JSON.parse(text) as Holder;
    return Number.isInteger(holder.pid) && typeof holder.host === 'string' ? holder : null;
  } catch {
    return null; // not written by us: treated as the lock of a process that is gone
  }
}

/** Why a file-system call failed, in a few words. */
function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const known: Record<string, string> = { ENOSPC: 'no space left on the device', EROFS: 'the file system is read-only', EACCES: 'permission denied' };
  return (e.code && known[e.code]) ?? e.message;
}

export class RunLock {
  private released = false;
  private readonly onExit = (): void => this.release();

  private constructor(
    readonly dir: string,
    private readonly holder: Holder,
    /** Whether taking the lock created the folder (it is removed again if the run never starts). */
    readonly createdDir: boolean,
  ) {
    process.on('exit', this.onExit);
    heldHere.add(holder.token);
  }

  get path(): string {
    return join(this.dir, LOCK_FILE);
  }

  /**
   * Takes the lock of `dir`, creating the folder when `create` (a new run), before anything else is written
   * there. Refused with an InputError naming the holder while another live process has it.
   */
  static acquire(dir: string, create: boolean): RunLock {
    const createdDir = create && !existsSync(dir);
    if (create) {
      try {
        mkdirSync(dir, { recursive: true });
      } catch (err) {
        throw new InputError(`cannot create the run folder ${dir}: ${reason(err)}`);
      }
    }
    const path = join(dir, LOCK_FILE);
    const holder: Holder = { pid: process.pid, host: hostname(), since: new Date().toISOString(), token: Math.random().toString(36).slice(2) };
    const aside = join(dir, `${LOCK_FILE}.${process.pid}.${holder.token}`);
    try {
      writeFileSync(aside, `${JSON.stringify(holder)}\n`);
    } catch (err) {
      rmSync(aside, { force: true });
      if (createdDir) rmSync(dir, { recursive: true, force: true });
      throw new InputError(`cannot lock the run folder ${dir}: ${reason(err)}`);
    }
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          linkSync(aside, path);
          removeLeftovers(dir);
          return new RunLock(dir, holder, createdDir);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new InputError(`cannot lock the run folder ${dir}: ${reason(err)}`);
        }
        const current = readHolder(path);
        if (current === 'gone') continue;
        const leftHere = current !== null && current.host === holder.host && current.pid === process.pid && !heldHere.has(current.token);
        if (current !== null && !leftHere && (current.host !== holder.host || processExists(current.pid))) {
          const where = current.host === holder.host ? `pid ${current.pid}` : `pid ${current.pid} on ${current.host}`;
          throw new InputError(
            `${dir} is in use by another qsattn train (${where}, since ${current.since}); wait for it to end or stop it` +
              ` (if no such process runs, delete ${path})`,
          );
        }
        takeOver(path, current);
      }
      throw new InputError(`cannot lock the run folder ${dir}: other processes keep taking it; try again`);
    } catch (err) {
      if (createdDir && !existsSync(path)) rmSync(dir, { recursive: true, force: true });
      throw err;
    } finally {
      rmSync(aside, { force: true });
    }
  }

  /** Lets go of the lock (once; also on process exit). A lock that is no longer ours is left alone. */
  release(): void {
    if (this.released) return;
    this.released = true;
    heldHere.delete(this.holder.token);
    process.removeListener('exit', this.onExit);
    const current = readHolder(this.path);
    if (current !== 'gone' && current !== null && current.token === this.holder.token) {
      try {
        unlinkSync(this.path);
      } catch {
        // A read-only or vanished folder: the lock is left to be taken over as a dead process's.
      }
    }
  }

  /**
   * Releases the lock and, when taking it created the folder and the run never wrote anything there, removes
   * the folder: a run that failed to start leaves no half-made run behind.
   */
  abandon(): void {
    this.release();
    if (!this.createdDir) return;
    try {
      if (readdirSync(this.dir).length === 0) rmSync(this.dir, { recursive: true, force: true });
    } catch {
      // Nothing to tidy, or it cannot be tidied (read-only): leave it.
    }
  }
}

/**
 * Takes over the lock of a dead holder: moves it aside (an atomic rename, which only one contender wins) and
 * checks that what was moved is still the dead holder's; a fresh lock moved by mistake is put back.
 */
function takeOver(path: string, dead: Holder | null): void {
  const moved = `${path}.stale.${process.pid}.${Math.random().toString(36).slice(2)}`;
  try {
    renameSync(path, moved);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else moved it first
    throw new InputError(`cannot take over the stale lock ${path}: ${reason(err)}`);
  }
  const taken = readHolder(moved);
  const same = dead === null ? taken === null : taken !== null && taken !== 'gone' && taken.token === dead.token;
  if (!same) {
    try {
      linkSync(moved, path); // put the live holder's lock back (unless yet another one is already there)
    } catch {
      // EEXIST: a newer lock is in place, which the next attempt will judge.
    }
  }
  rmSync(moved, { force: true });
}

/**
 * Files a killed writer leaves: temporary files of atomic writes (`.<name>.<pid>.<random>.tmp`) and locks set
 * aside (`.lock.<pid>.…`, `.lock.stale.<pid>.…`), removed when the pid they name is gone.
 */
function removeLeftovers(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (!(/^\..+\.tmp$/.test(name) || name.startsWith(`${LOCK_FILE}.`))) continue;
    const pid = name.split('.').filter((part) => /^\d+$/.test(part)).map(Number).pop();
    if (pid !== undefined && pid !== process.pid && !processExists(pid)) rmSync(join(dir, name), { force: true });
  }
}
