import { describe, expect, test } from 'vitest';
import { parseCommandArgs } from './args';
import type { Command } from './commands/command';

const command: Command = {
  name: 'demo',
  summary: '',
  usage: '',
  description: '',
  options: {
    'qs-mode': { type: 'string', description: '', choices: ['global', 'local'] },
    'lambda-NCE': { type: 'string', description: '' },
    'no-flip': { type: 'boolean', description: '' },
    'nce-idt': { type: 'boolean', optionalValue: true, description: '' },
  },
  run: async () => 0,
};

describe('parseCommandArgs', () => {
  test('official snake_case, kebab-case and either case name the same option', () => {
    for (const argv of [['--QS_mode', 'local'], ['--qs-mode=local'], ['--QS-mode', 'local'], ['--qs_mode=local']]) {
      expect(parseCommandArgs(command, argv).values).toEqual({ 'qs-mode': 'local' });
    }
    expect(parseCommandArgs(command, ['--lambda_NCE', '10', '--no_flip']).values).toEqual({ 'lambda-NCE': '10', 'no-flip': true });
  });

  test('a str2bool flag takes no value, =value or a following true/false word', () => {
    expect(parseCommandArgs(command, ['--nce_idt']).values).toEqual({ 'nce-idt': true });
    expect(parseCommandArgs(command, ['--nce_idt', 'False', 'x.png']).positionals).toEqual(['x.png']);
    expect(parseCommandArgs(command, ['--nce_idt', 'False']).values).toEqual({ 'nce-idt': false });
    expect(parseCommandArgs(command, ['--nce_idt=no']).values).toEqual({ 'nce-idt': false });
    expect(parseCommandArgs(command, ['--nce-idt', 'x.png']).values).toEqual({ 'nce-idt': true });
    expect(() => parseCommandArgs(command, ['--nce_idt=maybe'])).toThrow("option --nce-idt takes true or false (got 'maybe')");
    expect(() => parseCommandArgs(command, ['--no_flip=false'])).toThrow("option --no-flip takes no value (got 'false')");
  });

  test('after -- nothing is an option', () => {
    expect(parseCommandArgs(command, ['--', '--QS_mode']).positionals).toEqual(['--QS_mode']);
  });
});
