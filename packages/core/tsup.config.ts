import { fileURLToPath } from 'node:url';
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // import.meta.url in the CommonJS build (the threaded wasm loader resolves the wasm package from it). Not tsup's
  // `shims`, which would also put `import path from "path"` into the ES build and break browser bundles of it.
  esbuildOptions(options, { format }) {
    if (format !== 'cjs') return;
    options.define = { ...options.define, 'import.meta.url': 'importMetaUrl' };
    options.inject = [...(options.inject ?? []), fileURLToPath(new URL('./build/import-meta-url.cjs.js', import.meta.url))];
  },
  // tfjs-core's Node bundle registers no gradients, and its gradient modules are ES modules in a
  // package Node treats as CommonJS, so they are bundled in (they share tfjs's global engine and registries).
  noExternal: [/@tensorflow\/tfjs-core\/dist\//],
});
