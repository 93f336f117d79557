// Test-only: trains in child processes killed with SIGKILL at seeded random moments (some while a checkpoint is
// being written), resuming each time, and compares the result with a run never stopped.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, watch } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '@qsattn/core';
import { BACKEND, readLog, stepLosses, TINY_RUN } from './reliability';

/** The built command (the suite runs after the build). */
const BIN = fileURLToPath(new URL('../../bin/qsattn.js', import.meta.url));

export interface KillCampaignOptions {
  /** Where the run folders go. */
  dir: string;
  kills: number;
  seed: number;
  /** Extra training flags (the default trains TINY_RUN, saving every step). */
  args?: string[];
}

export interface KillCampaignResult {
  kills: number;
  /** Kills that landed while a checkpoint was being written (its temporary file was there). */
  duringSave: number;
  /** Processes started: the first, one resume per kill, and the one that finished. */
  starts: number;
  /** Starts that failed (exited non-zero on their own): each one is a resume that did not work. */
  failedStarts: { code: number | null; stderr: string }[];
  /** Steps of the finished run, and whether each appears once, in order, in its log. */
  steps: number;
  logReadsAsOneRun: boolean;
  /** Steps whose losses differ from the unbroken run's. */
  differingSteps: number[];
  /** Whether the final checkpoint is byte for byte the unbroken run's. */
  sameCheckpoint: boolean;
  seconds: number;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs the built `qsattn` in a child process. */
export function start(args: string[]): { child: ChildProcess; exit: Promise<Exit> } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exit = new Promise<Exit>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
  return { child, exit };
}

const trainArgs = (dir: string, name: string, extra: string[]) => ['train', '--checkpoints_dir', dir, '--name', name, ...extra];

/** Whether a checkpoint was being written: the atomic writer's temporary file is in the folder. */
const savingNow = (runDir: string): boolean => existsSync(runDir) && readdirSync(runDir).some((f) => f.startsWith('.') && f.endsWith('.tmp'));

/** Stops before the end (and its scoring of the test split), to keep each run short. */
const STOP = ['--max_steps', '8'];

export async function killCampaign({ dir, kills, seed, args = [...TINY_RUN, '--save_latest_freq', '1', ...STOP] }: KillCampaignOptions): Promise<KillCampaignResult> {
  const began = performance.now();
  const rng = new Rng(seed);
  const reference = join(dir, 'unbroken');
  const t0 = performance.now();
  const unbroken = await start(trainArgs(dir, 'unbroken', args)).exit;
  if (unbroken.code !== 0) throw new Error(`the unbroken run failed: ${unbroken.stderr}`);
  const runMs = performance.now() - t0;

  const name = 'killed';
  const runDir = join(dir, name);
  const result: KillCampaignResult = { kills: 0, duringSave: 0, starts: 0, failedStarts: [], steps: 0, logReadsAsOneRun: false, differingSteps: [], sameCheckpoint: false, seconds: 0 };
  const resumeArgs = [...BACKEND, ...STOP, '--resume'];
  const next = () => (existsSync(join(runDir, 'options.json')) ? trainArgs(dir, name, resumeArgs) : trainArgs(dir, name, args));
  while (result.kills < kills) {
    const { child, exit } = start(next());
    result.starts++;
    // Half the kills at a random moment of a run's length, half at the start of a random checkpoint write.
    const duringSave = rng.uniform() < 0.5;
    let killed = false;
    const kill = () => {
      if (killed) return;
      killed = true;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(kill, Math.floor(rng.uniform() * runMs));
    let watcher: ReturnType<typeof watch> | undefined;
    if (duringSave) {
      let saves = Math.floor(rng.uniform() * 8);
      const arm = () => {
        if (!existsSync(runDir) || watcher !== undefined) return;
        watcher = watch(runDir, (_, file) => {
          if (typeof file === 'string' && file.endsWith('.tmp') && existsSync(join(runDir, file)) && saves-- <= 0) kill();
        });
      };
      arm();
      const poll = setInterval(arm, 5);
      exit.finally(() => clearInterval(poll));
    }
    const { code, signal, stderr } = await exit;
    clearTimeout(timer);
    watcher?.close();
    if (signal === 'SIGKILL') {
      result.kills++;
      if (savingNow(runDir)) result.duringSave++;
    } else if (code !== 0) {
      result.failedStarts.push({ code, stderr });
    } else {
      // It finished before the kill: start over from scratch, so that every kill lands in a run.
      rmSync(runDir, { recursive: true, force: true });
    }
  }
  const last = await start(next()).exit;
  result.starts++;
  if (last.code !== 0) result.failedStarts.push({ code: last.code, stderr: last.stderr });

  const log = readLog(runDir);
  const steps = log.filter((e) => e.event === 'step').map((e) => e.step);
  const expected = readLog(reference).filter((e) => e.event === 'step').map((e) => e.step);
  result.steps = steps.length;
  result.logReadsAsOneRun = steps.length === expected.length && steps.every((s, i) => s === i + 1);
  const ours = stepLosses(log);
  const theirs = stepLosses(readLog(reference));
  result.differingSteps = expected.filter((s) => JSON.stringify(ours[s]) !== JSON.stringify(theirs[s]));
  const checkpoint = (d: string) => readFileSync(join(d, 'latest_checkpoint.safetensors'));
  result.sameCheckpoint = existsSync(join(runDir, 'latest_checkpoint.safetensors')) && checkpoint(runDir).equals(checkpoint(reference));
  result.seconds = (performance.now() - began) / 1000;
  return result;
}
