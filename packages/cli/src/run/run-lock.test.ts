import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { LOCK_FILE, RunLock } from './run-lock';

const scratch = mkdtempSync(join(tmpdir(), 'qsattn-lock-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The pid of a process that has exited (so is certainly not running). */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString());
}

const lockOf = (dir: string) => JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'));

describe('run folder lock', () => {
  test('is taken before anything is written, refuses a second holder naming the first, and is released', () => {
    const dir = join(scratch, 'a');
    const lock = RunLock.acquire(dir, true);
    expect(readdirSync(dir)).toEqual([LOCK_FILE]);
    expect(lockOf(dir)).toMatchObject({ pid: process.pid, host: hostname() });
    expect(() => RunLock.acquire(dir, false)).toThrow(new RegExp(`^${dir} is in use by another qsattn train \\(pid ${process.pid}, since .*\\); wait for it to end or stop it \\(if no such process runs, delete ${join(dir, LOCK_FILE)}\\)$`));
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    RunLock.acquire(dir, false).release();
  });

  test("a dead process's lock (killed, so never released) is taken over, and its leftovers removed", () => {
    const dir = join(scratch, 'b');
    mkdirSync(dir);
    const pid = deadPid();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid, host: hostname(), since: 'earlier', token: 'x' }));
    writeFileSync(join(dir, `.latest_checkpoint.safetensors.${pid}.abc.tmp`), 'partial');
    writeFileSync(join(dir, `.latest_checkpoint.safetensors.${process.pid}.def.tmp`), 'a live writer');
    const lock = RunLock.acquire(dir, false);
    expect(lockOf(dir).pid).toBe(process.pid);
    expect(readdirSync(dir).sort()).toEqual([LOCK_FILE, `.latest_checkpoint.safetensors.${process.pid}.def.tmp`].sort());
    lock.release();
  });

  test('a lock that is not ours in form is taken over; one held on another host is refused, naming the host', () => {
    const dir = join(scratch, 'c');
    mkdirSync(dir);
    writeFileSync(join(dir, LOCK_FILE), 'garbage');
    RunLock.acquire(dir, false).release();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 1, host: 'elsewhere', since: 'then', token: 'y' }));
    expect(() => RunLock.acquire(dir, false)).toThrow(/is in use by another qsattn train \(pid 1 on elsewhere, since then\)/);
  });

  test('a run that never starts leaves no folder it created, and keeps one it did not', () => {
    const fresh = join(scratch, 'd', 'run');
    RunLock.acquire(fresh, true).abandon();
    expect(existsSync(fresh)).toBe(false);
    const existing = join(scratch, 'e');
    mkdirSync(existing);
    RunLock.acquire(existing, true).abandon();
    expect(existsSync(existing)).toBe(true);
  });
});
