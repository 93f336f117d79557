import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCheckpointInfo } from '@qsattn/cut-model';
import { afterAll, describe, expect, test } from 'vitest';
import { runCli } from '../testing/memory-io';

const scratch = mkdtempSync(join(tmpdir(), 'qsattn-train-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A model small enough for tens of steps in seconds, on a few synthetic images (epochs of 6 steps). */
const TINY = ['--ngf', '4', '--ndf', '4', '--netF_nc', '16', '--num_patches', '16', '--max_dataset_size', '6', '--n_epochs', '1', '--n_epochs_decay', '1'];
const common = (name: string): string[] => ['train', '--checkpoints_dir', scratch, '--name', name, '--backend', 'wasm', ...TINY];

interface LogEntry {
  event: string;
  step: number;
  [key: string]: unknown;
}

const readLog = (name: string): LogEntry[] =>
  readFileSync(join(scratch, name, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as LogEntry);

const stepLosses = (name: string): Record<string, unknown>[] =>
  readLog(name)
    .filter((e) => e.event === 'step')
    .map(({ step, epoch, lr, G, G_GAN, NCE, NCE_Y, D, D_real, D_fake }) => ({ step, epoch, lr, G, G_GAN, NCE, NCE_Y, D, D_real, D_fake }));

describe('qsattn train', () => {
  test('a short run writes its options, checkpoints and a JSONL log, then scores the test split', async () => {
    const { code, stdout, stderr } = await runCli(...common('short'));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^backend wasm/);
    expect(stdout).toContain('preset synth-quick');
    expect(stdout).toMatch(/done: 12 steps in /);
    expect(stdout).toMatch(/content kept +\d\.\d{3} +1\.000/);
    expect(stdout).toMatch(/\n  goals: [0-3] of 3 met \(object IoU with target ≥ 0\.90 (met|NOT met); stripe contrast \/ target ≥ 0\.70 (met|NOT met); background change ≤ 0\.02 (met|NOT met)\)\n/);
    expect(stdout).toMatch(/domain changed +\d\.\d{3} +0\.\d{3}/);

    const run = join(scratch, 'short');
    const options = JSON.parse(readFileSync(join(run, 'options.json'), 'utf8'));
    expect(options).toMatchObject({ format: 'qsattn-run/1', preset: 'synth-quick', model: { ngf: 4, qsMode: 'global', nEpochs: 1, nceLayers: [0, 4, 8, 12] }, run: { cropSize: 64, seed: 0, dataroot: null } });
    expect(options.synth).toEqual({ seed: 0, size: 64, trainCount: 6, testCount: 50 });
    for (const file of ['latest_checkpoint.safetensors', '2_checkpoint.safetensors']) expect(existsSync(join(run, file)), file).toBe(true);
    const info = await readCheckpointInfo(readFileSync(join(run, 'latest_checkpoint.safetensors')), 'latest');
    expect(info.step).toBe(12);

    const log = readLog('short');
    const steps = log.filter((e) => e.event === 'step');
    expect(steps.map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(steps[0]).toMatchObject({ epoch: 1, lr: 0.0002, G: expect.any(Number), NCE_Y: expect.any(Number), stepSeconds: expect.any(Number) });
    expect(steps[11]).toMatchObject({ epoch: 2, lr: 0.0001 });
    expect(log.filter((e) => e.event === 'checkpoint').length).toBeGreaterThanOrEqual(2);
    expect(log.at(-1)).toMatchObject({ event: 'eval', images: 50, identity: { contentKept: 1 } });
  });

  test('stopping half-way and resuming gives the same losses, step for step, as a run never stopped', async () => {
    // 10 of the 12 steps straight; 5 (mid-epoch), then --resume to 10 (across the epoch and the LR decay).
    expect((await runCli(...common('straight'), '--max_steps', '10')).code).toBe(0);
    const half = await runCli(...common('halves'), '--max_steps', '5');
    expect(half.code).toBe(0);
    expect(half.stdout).toContain('reached --max_steps at step 5 of 12');
    expect(half.stdout).toContain(`qsattn train --name halves --checkpoints_dir ${scratch} --resume`);
    const resumed = await runCli('train', '--checkpoints_dir', scratch, '--name', 'halves', '--resume', '--max_steps', '10');
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('resuming at step 5');
    const straight = stepLosses('straight');
    expect(straight).toHaveLength(10);
    expect(stepLosses('halves')).toEqual(straight);
  });

  test('Ctrl-C saves latest after the current step and exits 130, ready to resume', async () => {
    const running = runCli(...common('interrupted'));
    const log = join(scratch, 'interrupted', 'log.jsonl');
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (existsSync(log) && readFileSync(log, 'utf8').includes('"event":"step"')) {
          clearInterval(poll);
          process.emit('SIGINT');
          resolve();
        }
      }, 5);
    });
    const { code, stdout } = await running;
    expect(code).toBe(130);
    const stopped = Number(/stopped at step (\d+) of 12/.exec(stdout)?.[1]);
    expect(stopped).toBeGreaterThan(0);
    expect(stopped).toBeLessThan(12);
    expect(process.listenerCount('SIGINT')).toBe(0);
    const info = await readCheckpointInfo(readFileSync(join(scratch, 'interrupted', 'latest_checkpoint.safetensors')), 'latest');
    expect(info.step).toBe(stopped);
  });

  test('a config file is layered under the command line, in either spelling', async () => {
    const config = join(scratch, 'config.json');
    writeFileSync(config, JSON.stringify({ QS_mode: 'local', ngf: 8, 'crop-size': 32, no_flip: true, nce_idt: false }));
    const { code, stderr } = await runCli(...common('configured'), '--config', config, '--ngf=4', '--max-steps', '1');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const options = JSON.parse(readFileSync(join(scratch, 'configured', 'options.json'), 'utf8'));
    expect(options.model).toMatchObject({ qsMode: 'local', ngf: 4, nceIdt: false });
    expect(options.run).toMatchObject({ cropSize: 32, flip: false });
  });

  test("the official README's command line trains on an image folder", async () => {
    const dataroot = join(scratch, 'dataset');
    expect((await runCli('datasets', 'synth', '--out', dataroot, '--train-count', '3', '--test-count', '2')).code).toBe(0);
    const { code, stdout, stderr } = await runCli(
      'train',
      `--dataroot=${dataroot}`,
      '--name=horse2zebra_global',
      '--QS_mode=global',
      `--checkpoints_dir=${scratch}`,
      ...TINY.slice(0, 8),
      '--load_size=72',
      '--crop_size=64',
      '--max_steps=2',
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(`training ${join(scratch, 'horse2zebra_global')} on ${dataroot} (3 A, 3 B images): 1200 steps, 3 per epoch`);
    const options = JSON.parse(readFileSync(join(scratch, 'horse2zebra_global', 'options.json'), 'utf8'));
    expect(options).toMatchObject({ preset: null, model: { qsMode: 'global', ngf: 4, nEpochs: 200, nEpochsDecay: 200 }, run: { dataroot, loadSize: 72 }, synth: null });
  });

  describe('bad input: one line naming the problem', () => {
    test.each([
      [['--dataroot', join(scratch, 'no-such-dataset')], 1, /^qsattn train: --dataroot .*no-such-dataset: no such folder\n$/],
      [['--lamda_NCE', '2'], 2, /^qsattn train: unknown option '--lamda_NCE' for 'train': valid options are --dataroot, --name, .*--lambda-NCE, .*--resume, --continue-train, --skip-bad-images, --dashboard, --port, --help\n$/],
      [['--QS_mode', 'sideways'], 2, /^qsattn train: unknown qs-mode 'sideways': choose one of global, local, local_global\n$/],
      [['--ngf', 'x'], 2, /^qsattn train: --ngf needs a number, got "x"\n$/],
      [['--seed', '-1'], 2, /^qsattn train: option --seed needs an integer ≥ 0, got '-1'\n$/],
      [['--preset', 'cut', '--CUT_mode', 'FastCUT'], 2, /^qsattn train: give --preset or --CUT_mode, not both\n$/],
      [['--config', join(scratch, 'none.json')], 1, /^qsattn train: cannot read config .*none\.json: no such file\n$/],
    ])('%j → exit %i', async (args, exitCode, message) => {
      const { code, stdout, stderr } = await runCli('train', '--checkpoints_dir', scratch, '--name', 'bad', ...args);
      expect(stderr).toMatch(message);
      expect(code).toBe(exitCode);
      expect(stdout).not.toContain('training');
    });

    test('a new run over an existing one, and --resume of a run that does not exist', async () => {
      const again = await runCli(...common('short'));
      expect(again.code).toBe(2);
      expect(again.stderr).toMatch(/^qsattn train: .*short already holds a run: continue it with --resume, choose another --name, or delete the folder\n$/);
      const missing = await runCli('train', '--checkpoints_dir', scratch, '--name', 'never', '--resume');
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/^qsattn train: cannot resume .*never: no options\.json there \(start the run without --resume\)\n$/);
      const changed = await runCli('train', '--checkpoints_dir', scratch, '--name', 'short', '--resume', '--ngf', '8');
      expect(changed.code).toBe(2);
      expect(changed.stderr).toBe('qsattn train: --resume continues a run with its saved options; drop --ngf (or start a new run with another --name)\n');
    });

    test('a corrupt latest checkpoint', async () => {
      expect((await runCli(...common('corrupt'), '--max_steps', '2')).code).toBe(0);
      const latest = join(scratch, 'corrupt', 'latest_checkpoint.safetensors');
      writeFileSync(latest, readFileSync(latest).subarray(0, 200));
      const { code, stderr } = await runCli('train', '--checkpoints_dir', scratch, '--name', 'corrupt', '--resume');
      expect(code).toBe(1);
      expect(stderr.split('\n')).toHaveLength(2);
      expect(stderr).toMatch(/^qsattn train: .*latest_checkpoint\.safetensors/);
    });
  });
});
