import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { BACKEND_NAMES, describeBackendChoice, selectBackend } from '@qsattn/core';
import { parseRunLog, stepEntries, type RunStatus } from '@qsattn/viz';
import { EXIT_OK, InputError, UsageError, type CliIo } from '../io';
import { stringValue } from '../options/cli-values';
import { defaultRunName, RUN_DEFAULTS } from '../options/run-options';
import { openTrainingSet } from '../run/datasets';
import { loadRunCheckpoint } from '../run/run-checkpoint';
import { RunFolder } from '../run/run-folder';
import { RunReport } from '../run/run-report';
import { snapshotSamples } from '../run/run-views';
import type { Command } from './command';

/** A run whose log changed this recently is taken to be still going. */
const RUNNING_SECONDS = 120;

/** The checkpoints of a run folder, oldest first: the numbered ones by epoch, then `latest`. */
export function runCheckpoints(folder: RunFolder): { key: string; label: string; path: string; epoch?: number }[] {
  const numbered: { key: string; label: string; path: string; epoch?: number }[] = readdirSync(folder.dir)
    .map((f) => /^(\d+)_checkpoint\.safetensors$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b)
    .map((epoch) => ({ key: `epoch_${epoch}`, label: `epoch ${epoch}`, path: folder.checkpointPath(epoch), epoch }));
  const latest = folder.checkpointPath('latest');
  return existsSync(latest) ? [...numbered, { key: 'latest', label: 'latest', path: latest }] : numbered;
}

/** How a run stands, from its log: evaluated or at its last step → done; written to lately → running; else stopped. */
function runStatus(folder: RunFolder): RunStatus {
  if (!existsSync(folder.logPath)) return 'stopped';
  const { entries } = parseRunLog(readFileSync(folder.logPath, 'utf8'));
  const start = [...entries].reverse().find((e) => e.event === 'start') as { totalSteps?: number } | undefined;
  const last = stepEntries(entries).at(-1);
  if (entries.some((e) => e.event === 'eval') || (last !== undefined && start?.totalSteps !== undefined && last.step >= start.totalSteps)) return 'done';
  return (Date.now() - statSync(folder.logPath).mtimeMs) / 1000 < RUNNING_SECONDS ? 'running' : 'stopped';
}

export const reportCommand: Command = {
  name: 'report',
  summary: "(re)build a run's report, NAME/web/index.html, from its folder (also while it trains)",
  usage: '[NAME] [--checkpoints_dir DIR] [--backend NAME]',
  description: [
    'Rebuilds CHECKPOINTS_DIR/NAME/web/index.html from the run folder alone: the curves from log.jsonl, and for',
    'each checkpoint (numbered ones and latest) the image grid and the selection maps of its generator. Works on a',
    'run that is still going (its checkpoints are written atomically). NAME defaults to synth.',
  ].join('\n'),
  options: {
    name: { type: 'string', valueName: 'NAME', description: 'the run (instead of the positional NAME)' },
    'checkpoints-dir': { type: 'string', valueName: 'DIR', description: 'where run folders are (default ./checkpoints) (--checkpoints_dir)' },
    backend: { type: 'string', valueName: 'NAME', choices: BACKEND_NAMES, default: 'auto', description: 'the TensorFlow.js backend to run on' },
  },

  async run({ positionals, values }, io: CliIo) {
    if (positionals.length > 1) throw new UsageError(`give one run name, got ${positionals.length}: ${positionals.join(', ')}`);
    const given = stringValue(values, 'name');
    if (given !== undefined && positionals.length === 1 && positionals[0] !== given) throw new UsageError(`give the run once: ${positionals[0]} or --name ${given}`);
    const name = given ?? positionals[0] ?? defaultRunName(null);
    const folder = RunFolder.of(stringValue(values, 'checkpoints-dir') ?? RUN_DEFAULTS.checkpointsDir, name);
    if (!existsSync(folder.dir)) throw new InputError(`${folder.dir}: no such run folder (give the run's NAME, and --checkpoints_dir if it is not ./checkpoints)`);
    if (!folder.hasOptions()) throw new InputError(`${folder.dir} is not a run of qsattn train: no options.json there`);
    const saved = folder.readOptions();
    const choice = await selectBackend(stringValue(values, 'backend') ?? 'auto');
    io.stdout.write(`${describeBackendChoice(choice)}\n`);
    const samples = await snapshotSamples(await openTrainingSet(saved.run, saved.model, saved.synth), saved);
    const report = new RunReport(folder, saved);
    const checkpoints = runCheckpoints(folder);
    for (const c of checkpoints) {
      const { model, loader } = await loadRunCheckpoint(c.path);
      try {
        // `latest` mid-epoch is in the epoch after those its loader has finished.
        const epoch = c.epoch ?? model.options.epochCount + (loader?.epoch ?? 0);
        await report.addSnapshot(model.netG, samples, c.key, c.label, epoch, model.step);
      } finally {
        model.dispose();
      }
    }
    const status = runStatus(folder);
    await report.write(status, status === 'running' ? 'still training: rebuilt by qsattn report' : undefined);
    io.stdout.write(`${checkpoints.length} checkpoint(s); wrote ${report.pagePath}\n`);
    return EXIT_OK;
  },
};
