import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', synth: 'src/synth/index.ts', download: 'src/download/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
