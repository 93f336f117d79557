import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: {
      '@qsattn/core': fileURLToPath(new URL('../core/src/index.ts', import.meta.url)),
      '@qsattn/qsattn': fileURLToPath(new URL('../qsattn/src/index.ts', import.meta.url)),
      '@qsattn/cut-model': fileURLToPath(new URL('../cut-model/src/index.ts', import.meta.url)),
      '@qsattn/data/synth': fileURLToPath(new URL('../data/src/synth/index.ts', import.meta.url)),
      '@qsattn/data': fileURLToPath(new URL('../data/src/index.ts', import.meta.url)),
      '@qsattn/viz/node': fileURLToPath(new URL('../viz/src/node.ts', import.meta.url)),
      '@qsattn/viz': fileURLToPath(new URL('../viz/src/index.ts', import.meta.url)),
      '@qsattn/fid': fileURLToPath(new URL('../fid/src/index.ts', import.meta.url)),
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    server: { deps: { inline: [/@tensorflow\/tfjs-core\/dist\/(?!tf-core)/] } },
  },
});
