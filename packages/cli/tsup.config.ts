import { defineConfig } from 'tsup';

export default defineConfig({
  // The translating thread is its own entry: worker threads load it by file (dist/translate-thread.js).
  entry: { bin: 'src/bin.ts', 'translate-thread': 'src/scale/translate-thread.ts' },
  format: ['esm'],
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  banner: { js: '#!/usr/bin/env node' },
});
