// Test-only: runs `main` with stdout and stderr collected in strings.
import { main } from '../main';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(...argv: string[]): Promise<CliResult> {
  const result = { code: -1, stdout: '', stderr: '' };
  result.code = await main(argv, {
    stdout: { write: (text: string) => (result.stdout += text) },
    stderr: { write: (text: string) => (result.stderr += text) },
  });
  return result;
}

/** The fixtures SPEC describes (testdata/fixtures). */
export const FIXTURES = new URL('../../../../testdata/fixtures/', import.meta.url).pathname;
