// Test-only: a local HTTP server on 127.0.0.1 that serves files from memory with Range support and scripted
// misbehaviour (a connection dropped part-way, 503 answers, ranges ignored), and a tiny forwarding proxy.
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

export interface ServedFile {
  body: Uint8Array;
  /** Close the connection after this many bytes, for the first `dropTimes` requests (default 1). */
  dropAfter?: number;
  dropTimes?: number;
  /** Answer 503 to the first this-many requests. */
  failTimes?: number;
  /** Answer 200 with the whole file to Range requests. */
  ignoreRange?: boolean;
  /** Send no Content-Length (chunked). */
  noLength?: boolean;
  /** Close the connection after the body (`Connection: close`, as HTTP/1.0 servers do). */
  close?: boolean;
}

export interface TestServer {
  url: string;
  /** Request lines seen (method, path, range header), in order. */
  log: { method: string; path: string; range?: string }[];
  files: Map<string, ServedFile>;
  /** path → the path to redirect to. */
  redirects: Map<string, string>;
  close(): Promise<void>;
}

/** Tunnelled sockets, which closeAllConnections does not reach. */
const tunnels = new WeakMap<Server, Set<Socket>>();

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  for (const socket of tunnels.get(server) ?? []) socket.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

export async function startTestServer(): Promise<TestServer> {
  const files = new Map<string, ServedFile>();
  const redirects = new Map<string, string>();
  const log: TestServer['log'] = [];
  const served = new Map<string, number>();

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const range = req.headers.range;
    log.push({ method: req.method ?? 'GET', path, ...(range === undefined ? {} : { range }) });
    const target = redirects.get(path);
    if (target !== undefined) {
      res.writeHead(302, { location: target }).end();
      return;
    }
    const file = files.get(path);
    if (file === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const count = (served.get(path) ?? 0) + 1;
    served.set(path, count);
    if (count <= (file.failTimes ?? 0)) {
      res.writeHead(503).end('busy');
      return;
    }
    const size = file.body.length;
    let start = 0;
    const match = range === undefined || file.ignoreRange ? null : /^bytes=(\d+)-$/.exec(range);
    if (match !== null) {
      start = Number(match[1]);
      if (start >= size) {
        res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
        return;
      }
      res.writeHead(206, { 'content-range': `bytes ${start}-${size - 1}/${size}`, 'content-length': String(size - start), 'accept-ranges': 'bytes' });
    } else {
      res.writeHead(200, { ...(file.noLength ? {} : { 'content-length': String(size) }), ...(file.close ? { connection: 'close' } : {}), 'accept-ranges': 'bytes' });
    }
    const failing = file.dropAfter !== undefined && count - (file.failTimes ?? 0) <= (file.dropTimes ?? 1);
    if (failing && file.dropAfter! < size - start) {
      res.write(file.body.subarray(start, start + file.dropAfter!), () => {
        // Let the bytes reach the client before the connection goes.
        setTimeout(() => res.socket?.destroy(), 50);
      });
      return;
    }
    res.end(file.body.subarray(start));
  };

  const server = createServer(handle);
  const url = await listen(server);
  return { url, log, files, redirects, close: () => closeServer(server) };
}

export interface TestProxy {
  url: string;
  /** The absolute URLs it forwarded and the host:port of each tunnel it opened. */
  forwarded: string[];
  close(): Promise<void>;
}

/** An HTTP proxy: forwards absolute-URI requests and tunnels CONNECT (what undici's proxy agents send). */
export async function startTestProxy(): Promise<TestProxy> {
  const forwarded: string[] = [];
  const server = createServer((req, res) => {
    const target = req.url ?? '';
    forwarded.push(target);
    const upstream = httpRequest(target, { method: req.method, headers: { ...req.headers, host: new URL(target).host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    forwarded.push(target);
    const [host, port] = target.split(':');
    const open = tunnels.get(server) ?? new Set<Socket>();
    tunnels.set(server, open.add(client));
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  const url = await listen(server);
  return { url, forwarded, close: () => closeServer(server) };
}
