import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors } from '@qsattn/core';
import { afterAll, describe, expect, test } from 'vitest';
import { FIXTURES, runCli } from '../testing/memory-io';

const LOCAL = join(FIXTURES, 'qs_local_64.safetensors');
const scratch = mkdtempSync(join(tmpdir(), 'qsattn-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Rows of the printed tables: `group  error  tolerance  count  ok|FAIL`. */
function tableRows(stdout: string): { group: string; ok: string }[] {
  return [...stdout.matchAll(/^ {2}(\S+) +\S+ +\S+ +\d+ {2}(ok|FAIL)( \(float64\))?$/gm)].map(([, group, ok, judged]) => ({ group, ok, judged: judged != null }));
}

/** A copy of a fixture with one recorded float32 value changed (parsed from the safetensors header). */
function withChangedValue(source: string, tensor: string, change: (x: number) => number): string {
  const bytes = new Uint8Array(readFileSync(source));
  const view = new DataView(bytes.buffer);
  const headerLength = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  expect(header[tensor].dtype).toBe('F32');
  const offset = 8 + headerLength + header[tensor].data_offsets[0];
  view.setFloat32(offset, change(view.getFloat32(offset, true)), true);
  const path = join(scratch, `changed-${tensor}.safetensors`);
  writeFileSync(path, bytes);
  return path;
}

describe('qsattn conformance', () => {
  test('the local-mode fixture passes: exit 0, every group printed ok, with the time taken', async () => {
    const { code, stdout, stderr } = await runCli('conformance', LOCAL, '--backend', 'wasm', '--threads', '1');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout.split('\n')[0]).toBe('backend wasm, 1 thread');
    const rows = tableRows(stdout);
    const verdict = stdout.match(/ok: all (\d+) groups within tolerance \((\d+\.\d) s\)/);
    expect(verdict, stdout).not.toBeNull();
    expect(rows).toHaveLength(Number(verdict![1]));
    expect(rows.every((r) => r.ok === 'ok')).toBe(true);
    expect(rows.map((r) => r.group)).toEqual(
      expect.arrayContaining(['loss', 'out.fake_B', 'out.idt_B', 'nceA.attn', 'nceA.ids', 'nceB.grad_feat_k', 'grad.G', 'grad.F', 'grad.D', 'after.G', 'after.F', 'after.D']),
    );
  });

  test('a fixture with a changed loss.G fails: exit 1, the loss group marked FAIL and named', async () => {
    const changed = withChangedValue(LOCAL, 'loss.G', (x) => x * 1.01);
    const { code, stdout } = await runCli('conformance', changed, '--backend', 'wasm');
    expect(code).toBe(1);
    const failed = tableRows(stdout).filter((r) => r.ok === 'FAIL');
    expect(failed.map((r) => r.group)).toEqual(['loss']);
    expect(stdout).toMatch(/FAILED: 1 of \d+ groups out of tolerance: loss \(\d+\.\d s\)/);
  });

  describe('files it cannot use: one line naming the file, exit 1, before any run', () => {
    const pth = join(FIXTURES, 'pth');
    const plain = join(scratch, 'plain.safetensors');
    writeFileSync(plain, writeSafetensors({ w: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } }));
    test.each([
      ['a missing file', join(scratch, 'nope.safetensors'), /^qsattn conformance: cannot read .*nope\.safetensors: no such file\n$/],
      ['a directory', pth, /^qsattn conformance: cannot read .*pth: it is a directory\n$/],
      ['safetensors without official_args', plain, /^qsattn conformance: .*plain\.safetensors is not a conformance fixture: its metadata has no official_args \(.*\)\n$/],
      [
        'safetensors with official_args but no recorded step',
        join(pth, 'qs_ngf8_expected.safetensors'),
        /^qsattn conformance: .*qs_ngf8_expected\.safetensors is not a conformance fixture: it records no training step \(no input\.real_A, .*\) \(.*\)\n$/,
      ],
      ['not safetensors', join(pth, 'qs_ngf8_input.png'), /^qsattn conformance: .*qs_ngf8_input\.png: .*not safetensors\?\)\n$/],
    ])('%s', async (_, path, message) => {
      // The good fixture comes first: the bad one must be reported without running it.
      const { code, stdout, stderr } = await runCli('conformance', LOCAL, path, '--backend', 'cpu');
      expect(code).toBe(1);
      expect(stdout).toBe('');
      expect(stderr).toMatch(message);
    });
  });

  test('--dump writes our values under the recording\'s names and layout', async () => {
    const out = join(scratch, 'ours.safetensors');
    const { code } = await runCli('conformance', LOCAL, '--backend', 'wasm', '--dump', out);
    expect(code).toBe(0);
    const { tensors, metadata } = readSafetensors(new Uint8Array(readFileSync(out)), out);
    const recorded = readSafetensors(new Uint8Array(readFileSync(LOCAL)), LOCAL).tensors;
    expect(metadata.dump_of).toBe(LOCAL);
    for (const name of ['loss.G', 'out.fake_B', 'nceA.feat_k.4', 'nceA.grad_feat_k.2', 'nceB.pool_q.3', 'nceA.ids.3', 'grad.G.model.1.weight', 'after.D.model.0.bias']) {
      expect(tensors[name], name).toBeDefined();
      expect(tensors[name].shape, name).toEqual(recorded[name].shape);
    }
    expect(Math.abs(Number(tensors['loss.G'].data[0]) - Number(recorded['loss.G'].data[0]))).toBeLessThan(1e-5);
  });

  test('--dump and --truth take one fixture', async () => {
    for (const flag of ['--dump', '--truth']) {
      const { code, stderr } = await runCli('conformance', LOCAL, LOCAL, flag, join(scratch, 'x.safetensors'));
      expect(code).toBe(2);
      expect(stderr).toMatch(new RegExp(`${flag} .*exactly one FIXTURE \\(got 2\\)`));
    }
  });

  test('a float64 replay beside a recording judges its float32-noise gradients; a missing --truth file is named', async () => {
    const extra = join(FIXTURES, '..', 'fixtures-extra', 'randomonly_layers3_noidt_32.safetensors');
    const { code, stdout } = await runCli('conformance', extra, '--backend', 'wasm');
    expect(code, stdout).toBe(0);
    expect(tableRows(stdout).find((r) => r.group === 'grad.F')).toEqual({ group: 'grad.F', ok: 'ok', judged: true });
    expect(stdout).toMatch(/judged against its float64 replay/);
    const missing = await runCli('conformance', extra, '--backend', 'wasm', '--truth', join(scratch, 'none.safetensors'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read .*none\.safetensors: no such file/);
  });

  test('a backend that cannot start here is one line naming it and the valid ones, exit 1', async () => {
    const { code, stdout, stderr } = await runCli('conformance', LOCAL, '--backend', 'webgl');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^qsattn conformance: backend 'webgl' is unavailable: webgl \(.*\)\. Valid names: auto, .*\n$/);
  });
});
