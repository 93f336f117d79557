import { main } from './main';

process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  debug: process.env.QSATTN_DEBUG === '1',
});
