import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  shims: true, // import.meta.url in the CommonJS build (the threaded wasm loader resolves the wasm package from it)
  // tfjs-core's Node bundle registers no gradients, and its gradient modules are ES modules in a
  // package Node treats as CommonJS, so they are bundled in (they share tfjs's global engine and registries).
  noExternal: [/@tensorflow\/tfjs-core\/dist\//],
});
