// kill -9 at any moment: a small training run in child processes, SIGKILLed at seeded random moments (half
// of them while a checkpoint is being written) and resumed each time, ends exactly as a run never stopped.
// The suite tries a few kills; `npm run reliability` tries more (QSATTN_KILLS).
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { killCampaign, start } from '../testing/kill-campaign';
import { runCli } from '../testing/memory-io';
import { BACKEND, readLog, TINY_RUN } from '../testing/reliability';

const scratch = mkdtempSync(join(tmpdir(), 'qsattn-kill-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const kills = Number(process.env.QSATTN_KILLS) || 4;

test(`${kills} kills at random moments: every resume works, the log reads as one run, losses and checkpoint equal an unbroken run's`, async () => {
  const result = await killCampaign({ dir: scratch, kills, seed: Number(process.env.QSATTN_KILL_SEED) || 7 });
  const report = process.env.QSATTN_RELIABILITY_REPORT;
  if (report) appendFileSync(report, `${JSON.stringify({ kind: 'kills', ...result })}\n`);
  expect(result.failedStarts).toEqual([]);
  expect(result.kills).toBe(kills);
  expect(result.logReadsAsOneRun).toBe(true);
  expect(result.differingSteps).toEqual([]);
  expect(result.sameCheckpoint).toBe(true);
}, 600_000);

test('a second process training into a run folder is refused naming the first; once the first is killed, its lock does not block the resume', async () => {
  const run = join(scratch, 'two');
  const first = start(['train', '--checkpoints_dir', scratch, '--name', 'two', ...TINY_RUN, '--save_latest_freq', '1']);
  try {
    while (!readLog(run).some((e) => e.event === 'step')) await new Promise((resolve) => setTimeout(resolve, 20));
    const second = await runCli('train', '--checkpoints_dir', scratch, '--name', 'two', ...BACKEND, '--resume', '--max_steps', '3');
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`^qsattn train: ${run} is in use by another qsattn train \\(pid ${first.child.pid}, since `));
  } finally {
    first.child.kill('SIGKILL');
  }
  expect((await first.exit).signal).toBe('SIGKILL');
  const resumed = await runCli('train', '--checkpoints_dir', scratch, '--name', 'two', ...BACKEND, '--resume', '--max_steps', '3');
  expect(resumed.stderr).toBe('');
  expect(resumed.code).toBe(0);
}, 120_000);
