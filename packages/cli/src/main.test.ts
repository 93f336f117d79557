import { BACKEND_NAMES } from '@qsattn/core';
import { describe, expect, test } from 'vitest';
import packageJson from '../package.json';
import { COMMANDS } from './commands';
import { runCli } from './testing/memory-io';

const commandNames = COMMANDS.map((c) => c.name);

describe('qsattn', () => {
  test('--help lists every command and exits 0', async () => {
    const { code, stdout, stderr } = await runCli('--help');
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^Usage: qsattn <command> \[options\]/);
    for (const name of commandNames) expect(stdout).toContain(`  ${name}  `);
  });

  test('--version prints the package version', async () => {
    expect(await runCli('--version')).toEqual({ code: 0, stdout: `${packageJson.version}\n`, stderr: '' });
  });

  test('no command prints the help to stderr and exits 2', async () => {
    const { code, stdout, stderr } = await runCli();
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^Usage: qsattn/);
  });

  test('an unknown command is one line naming it and the valid ones, exit 2', async () => {
    const { code, stdout, stderr } = await runCli('conformence', 'x.safetensors');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(`qsattn: unknown command 'conformence': valid commands are ${commandNames.join(', ')}\n`);
  });

  test('an unknown program option is one line listing the valid ones, exit 2', async () => {
    const { code, stderr } = await runCli('--verbose');
    expect(code).toBe(2);
    expect(stderr).toBe(`qsattn: unknown option '--verbose': valid options are --help, --version, or a command: ${commandNames.join(', ')}\n`);
  });

  test('<command> --help shows its usage and options, exit 0', async () => {
    const { code, stdout } = await runCli('conformance', '--help');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: qsattn conformance FIXTURE\.safetensors/);
    expect(stdout).toContain('--backend NAME');
    expect(stdout).toContain(BACKEND_NAMES.join(', '));
    expect(stdout).toContain('-h, --help');
  });

  test('train --help lists the official options in kebab-case with their official spelling', async () => {
    const { code, stdout } = await runCli('train', '--help');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: qsattn train /);
    expect(stdout).toMatch(/--qs-mode MODE +QS-Attn query selection \(--QS_mode\) \(global, local, local_global; default global\)/);
    expect(stdout).toMatch(/--lambda-NCE X +weight of the PatchNCE loss \(default 1\) \(--lambda_NCE\)/);
    expect(stdout).toMatch(/--preset NAME +.*\(cut, fastcut, qs-global, qs-local, qs-local-global, synth-quick\)/);
  });

  describe('command options', () => {
    test.each([
      [['--verbose'], "qsattn conformance: unknown option '--verbose' for 'conformance': valid options are --backend, --threads, --json, --truth, --dump, --help"],
      [['-x'], "qsattn conformance: unknown option '-x' for 'conformance': valid options are --backend, --threads, --json, --truth, --dump, --help"],
      [['--backend', 'tpu'], `qsattn conformance: unknown backend 'tpu': choose one of ${BACKEND_NAMES.join(', ')}`],
      [['--backend=tpu'], `qsattn conformance: unknown backend 'tpu': choose one of ${BACKEND_NAMES.join(', ')}`],
      [['--backend'], `qsattn conformance: option --backend needs a value: one of ${BACKEND_NAMES.join(', ')}`],
      [['--json=yes'], "qsattn conformance: option --json takes no value (got 'yes')"],
      [[], 'qsattn conformance: give at least one FIXTURE.safetensors file (e.g. testdata/fixtures/qs_local_64.safetensors)'],
    ])('%j is one line and exit 2', async (args, message) => {
      const { code, stdout, stderr } = await runCli('conformance', ...args);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toBe(`${message}\n`);
    });
  });
});
