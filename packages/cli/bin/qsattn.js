#!/usr/bin/env node
// The `qsattn` command. It lives outside dist/ so that npm links it at install time, before the build; the
// command itself is the built dist/bin.js.
import('../dist/bin.js').catch((error) => {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/bin.js')) {
    console.error('qsattn: the command is not built yet: run `npm run build` (or `npm test`) at the repository root');
    process.exit(1);
  }
  throw error;
});
