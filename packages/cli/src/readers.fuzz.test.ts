// Fuzzed run files: options.json, --config files and log.jsonl, as a crash, a disk error or a hand edit may
// leave them. Each gives a correct read or a one-line InputError / UsageError naming the file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fc } from '@fast-check/vitest';
import { resolveModelOptions } from '@qsattn/cut-model';
import { afterAll, describe, expect, test } from 'vitest';
import { expectReadOrTypedError, fuzzProperty, mutatedBytes, mutatedJson, mutatedJsonText } from '../../core/src/testing/fuzz';
import { trainCommand } from './commands/train';
import { InputError, UsageError } from './io';
import { readConfigFile } from './options/cli-values';
import { parseSavedRunOptions, RUN_DEFAULTS, RUN_OPTIONS_FORMAT, synthOptionsFor, type SavedRunOptions } from './options/run-options';
import { lossNames, parseRunLog as parseReportLog, stepEntries } from '@qsattn/viz';
import { parseRunLog } from './run/run-folder';

const scratch = mkdtempSync(join(tmpdir(), 'qsattn-fuzz-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const run = { ...RUN_DEFAULTS, name: 'synth', cropSize: 64, loadSize: 72, maxDatasetSize: 150 };
const options: SavedRunOptions = {
  format: RUN_OPTIONS_FORMAT,
  preset: 'synth-quick',
  model: resolveModelOptions({ qsMode: 'global', ngf: 16 }),
  run,
  synth: synthOptionsFor(run),
  given: { ngf: '16', 'skip-bad-images': true },
};

describe('options.json', () => {
  test('the seed reads back as written', () => {
    expect(parseSavedRunOptions(JSON.stringify(options), 'o.json')).toEqual(options);
  });
  fuzzProperty('options.json', 'edited or damaged files', mutatedJsonText(options), (text) =>
    expectReadOrTypedError(() => parseSavedRunOptions(text, 'o.json'), InputError, /^o\.json[: ]/, (saved) => {
      expect(saved.format).toBe(RUN_OPTIONS_FORMAT);
      expect(Number.isInteger(saved.run.batchSize) && saved.run.batchSize >= 1).toBe(true);
    }),
  );
});

describe('--config', () => {
  const config = { QS_mode: 'local', ngf: 16, nce_layers: [0, 4, 8], 'no-flip': true, lr: 0.0001, batch_size: 2, preset: 'cut' };
  let counter = 0;
  fuzzProperty('--config', 'edited or damaged files', mutatedJsonText(config), (text) => {
    const path = join(scratch, `config${counter++}.json`);
    writeFileSync(path, text);
    return expectReadOrTypedError(() => readConfigFile(trainCommand, path, ['config', 'resume']), [InputError, UsageError], /config /);
  });
});

describe('log.jsonl', () => {
  const entries = [
    { event: 'start', step: 0, totalSteps: 12, resumed: false, backend: 'wasm', time: '2026-01-01T00:00:00.000Z' },
    { event: 'step', step: 1, epoch: 1, lr: 0.0002, G: 1.5, D: 0.5, NCE: 4.2 },
    { event: 'checkpoint', step: 1, epoch: 1, path: 'x/latest_checkpoint.safetensors', reason: 'latest' },
    { event: 'step', step: 2, epoch: 1, lr: 0.0002, G: 1.4, D: 0.4, NCE: 4.1 },
  ];
  const text = entries.map((e) => `${JSON.stringify(e)}\n`).join('');
  test('a last line cut short by a kill is left out; a bad line elsewhere is named', () => {
    expect(parseRunLog(text.slice(0, -10), 'log.jsonl')).toEqual({ entries: entries.slice(0, 3), tornTail: true });
    expect(() => parseRunLog(`{"event":"st\n${text}`, 'log.jsonl')).toThrow('log.jsonl: line 1 is not JSON; delete that line (or the file) to continue');
  });
  const damaged = fc.oneof(
    mutatedBytes([new TextEncoder().encode(text)]).map((b) => new TextDecoder().decode(b)),
    mutatedJson(entries).map((list) => (Array.isArray(list) ? list.map((e) => `${JSON.stringify(e)}\n`).join('') : String(list))),
  );
  // The report reads the log of a run that may still be writing it: it never refuses, it counts bad lines.
  fuzzProperty('log.jsonl', 'damaged or edited logs, read by the report', damaged, (log) => {
    const { entries: read, badLines } = parseReportLog(log);
    for (const e of read) expect(typeof e.event).toBe('string');
    expect(badLines.every((n) => Number.isInteger(n) && n >= 1)).toBe(true);
    lossNames(stepEntries(read));
    return badLines.length === 0 ? 'read' : 'refused';
  });
  fuzzProperty('log.jsonl', 'damaged or edited logs', damaged, (log) =>
    expectReadOrTypedError(() => parseRunLog(log, 'log.jsonl'), InputError, 'log.jsonl: ', ({ entries: read }) => {
      for (const e of read) expect(e.step === undefined || (Number.isInteger(e.step) && e.step >= 0)).toBe(true);
    }),
  );
});
