import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitepress';

// TypeDoc's sidebar (written by `npm run docs:api`), when it has been generated.
const apiSidebarFile = fileURLToPath(new URL('../api/typedoc-sidebar.json', import.meta.url));
// Only the packages: the whole tree would be copied into each of its ~400 pages (200 KB each).
const apiSidebar = (existsSync(apiSidebarFile) ? (JSON.parse(readFileSync(apiSidebarFile, 'utf8')) as { text: string; link?: string }[]) : []).map(({ text, link }) => ({ text, link }));

export default defineConfig({
  title: 'qsattn',
  description: 'QS-Attn and CUT unpaired image translation on TensorFlow.js',
  cleanUrls: false,
  ignoreDeadLinks: [/^https?:\/\/(127\.0\.0\.1|localhost)/],
  themeConfig: {
    nav: [
      { text: 'Guide', link: '/guide/getting-started' },
      { text: 'Examples', link: '/examples/translate' },
      { text: 'CLI', link: '/reference/cli' },
      { text: 'API', link: '/api/' },
    ],
    sidebar: {
      '/api/': [{ text: 'API reference', items: apiSidebar }],
      '/': [
        {
          text: 'Guide',
          items: [
            { text: 'Getting started', link: '/guide/getting-started' },
            { text: 'Reports, dashboard, --explain', link: '/guide/reports' },
            { text: 'QS-Attn in your own tfjs model', link: '/guide/qsattn-in-your-model' },
            { text: 'Official pretrained checkpoints', link: '/guide/pretrained' },
            { text: 'Conformance and the PyTorch finding', link: '/guide/conformance' },
          ],
        },
        {
          text: 'In-browser examples',
          items: [
            { text: 'Translate an image', link: '/examples/translate' },
            { text: 'QS-Attn on your features', link: '/examples/qs-module' },
            { text: 'Train in the browser', link: '/examples/train-in-browser' },
          ],
        },
        { text: 'Reference', items: [{ text: 'CLI', link: '/reference/cli' }, { text: 'API', link: '/api/' }] },
      ],
    },
  },
  vite: {
    // tfjs and the wasm binaries are large; the examples load them on demand.
    build: { chunkSizeWarningLimit: 4000 },
    optimizeDeps: { include: ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-webgl', '@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-backend-wasm', 'vega'] },
    ssr: { noExternal: [] },
  },
});
