// Test-only: a real redis-server of our own on a free loopback port, stopped when done.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export interface RedisServer {
  port: number;
  /** redis://127.0.0.1:PORT (or rediss:// for a TLS server). */
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** A port the system says is free on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `redis-server` on 127.0.0.1 with nothing saved to disk, and waits until it accepts connections (at most
 * 10 s). `args` are more redis-server options (`--requirepass`, TLS ones); with `tls`, the port is a TLS port.
 */
export async function startRedisServer(args: string[] = [], { tls = false }: { tls?: boolean } = {}): Promise<RedisServer> {
  const port = await freePort();
  const portArgs = tls ? ['--port', '0', '--tls-port', String(port)] : ['--port', String(port)];
  const child = spawn('redis-server', ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...portArgs, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start within 10 s: ${output.slice(-500)}`)), 10_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot start redis-server (${err.message}); install it (apt-get install redis-server)`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}): ${output.slice(-500)}`));
    });
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  };
  return { port, url: `${tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`, process: child, stop };
}
