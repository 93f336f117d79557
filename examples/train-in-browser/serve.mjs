// Serves dist/ on http://127.0.0.1:PORT (a secure context, as WebGPU requires). Usage: node serve.mjs [port]
import { createReadStream, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('./dist/', import.meta.url));
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.map': 'application/json' };

/** Starts the server; resolves with its URL. */
export function serveDist(port = 0) {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(root) || !existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) =>
    server.listen(port, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${server.address().port}/`, close: () => server.close() })),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (!existsSync(join(root, 'index.html'))) {
    console.error('dist/ is not built: run `node build.mjs` (or `npm run build`) first');
    process.exit(1);
  }
  const { url } = await serveDist(Number(process.argv[2] ?? 8080));
  console.log(`open ${url} (Chrome or Edge for WebGPU; any browser for WebGL)`);
}
