// The entries of a run's log.jsonl (written by `qsattn train`), read tolerantly: a run that is still going may
// have a half-written last line, and later versions may add entry kinds, which are kept but not interpreted.

export interface StartEntry {
  event: 'start';
  step: number;
  totalSteps: number;
  resumed: boolean;
  backend: string;
  time: string;
}

export interface StepEntry {
  event: 'step';
  step: number;
  epoch: number;
  epochStep: number;
  lr: number;
  dataSeconds: number;
  stepSeconds: number;
  /** The losses of the step, by their official names (D_real, D_fake, G_GAN, NCE, NCE_Y, D, G). */
  [loss: string]: number | string;
}

export interface CheckpointEntry {
  event: 'checkpoint';
  step: number;
  epoch: number;
  path: string;
  reason: string;
}

export interface EpochEntry {
  event: 'epoch';
  step: number;
  epoch: number;
  seconds: number;
  lr: number;
}

export interface EvalEntry {
  event: 'eval';
  step: number;
  images: number;
  model: Record<string, number>;
  identity: Record<string, number>;
  seconds: number;
}

export type RunLogEntry = StartEntry | StepEntry | CheckpointEntry | EpochEntry | EvalEntry;

/** The step fields that are not losses. */
export const STEP_FIELDS = ['event', 'step', 'epoch', 'epochStep', 'lr', 'dataSeconds', 'stepSeconds'] as const;

/** The losses a chart shows, in the order of the official visdom plot; others found in the log follow. */
export const LOSS_NAMES = ['D_real', 'D_fake', 'G_GAN', 'NCE', 'NCE_Y'] as const;

export interface ParsedRunLog {
  entries: RunLogEntry[];
  /** Lines that were not JSON objects (a half-written last line of a running run, or damage), 1-based. */
  badLines: number[];
}

/** Parses log.jsonl text. Never throws on content: unreadable lines are counted in `badLines`. */
export function parseRunLog(text: string): ParsedRunLog {
  const entries: RunLogEntry[] = [];
  const badLines: number[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const entry = JSON.parse(line) as unknown;
      if (entry !== null && typeof entry === 'object' && typeof (entry as { event?: unknown }).event === 'string') entries.push(entry as RunLogEntry);
      else badLines.push(i + 1);
    } catch {
      badLines.push(i + 1);
    }
  });
  return { entries, badLines };
}

export function stepEntries(entries: readonly RunLogEntry[]): StepEntry[] {
  return entries.filter((e): e is StepEntry => e.event === 'step' && typeof e.step === 'number');
}

/** The loss names present in step entries: the official ones first, in their order, then any others. */
export function lossNames(steps: readonly StepEntry[]): string[] {
  const found = new Set<string>();
  for (const s of steps) for (const [k, v] of Object.entries(s)) if (typeof v === 'number' && !(STEP_FIELDS as readonly string[]).includes(k)) found.add(k);
  const official = LOSS_NAMES.filter((n) => found.has(n));
  // D and G are sums of the others: shown after them.
  const rest = [...found].filter((n) => !(LOSS_NAMES as readonly string[]).includes(n)).sort();
  return [...official, ...rest];
}
