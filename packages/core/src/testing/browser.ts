// Test-only: headless Chromium (Debian's, driven by playwright-core; no browser download) on a page served from
// 127.0.0.1 (a secure context: WebGPU needs one), with software WebGPU and WebGL (SwiftShader) where there is no GPU.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CHROMIUM = ['/usr/lib/chromium/chromium', '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
const PACKAGES = fileURLToPath(new URL('../../..', import.meta.url));

export function findChromium(): string | undefined {
  return process.env.CHROMIUM_PATH ?? CHROMIUM.find((path) => existsSync(path));
}

/** Bundles a page script for the browser, resolving our packages to their sources; fails on any Node built-in. */
export async function bundleForBrowser(entry: string): Promise<string> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
    alias: {
      '@qsattn/core': join(PACKAGES, 'core/src/index.ts'),
      '@qsattn/qsattn': join(PACKAGES, 'qsattn/src/index.ts'),
      '@qsattn/cut-model': join(PACKAGES, 'cut-model/src/index.ts'),
      '@qsattn/data/synth': join(PACKAGES, 'data/src/synth/index.ts'),
    },
  });
  return result.outputFiles[0].text;
}

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.png': 'image/png' };

/** Serves `files` (URL path → contents, or a file to read) on 127.0.0.1; `close` stops it. */
export async function serve(files: Record<string, string | Uint8Array | { file: string }>): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const requested = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const path = requested.endsWith('/') ? `${requested}index.html` : requested;
    const entry = files[path];
    if (entry == null) {
      res.writeHead(404).end();
      return;
    }
    const body = typeof entry === 'object' && 'file' in entry ? readFileSync(entry.file) : entry;
    res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address != null ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export interface Browser {
  page: import('playwright-core').Page;
  close(): Promise<void>;
}

/** Headless Chromium with WebGPU enabled (software where there is no GPU), a fresh profile, no network chatter. */
export async function launchChromium(executablePath: string): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  const profile = await mkdtemp(join(tmpdir(), 'qsattn-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--enable-unsafe-webgpu',
      '--enable-unsafe-swiftshader',
      '--use-angle=swiftshader',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    page,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
