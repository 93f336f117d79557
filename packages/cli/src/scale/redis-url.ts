import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { UsageError, InputError } from '../io';

/** The Redis connection of `--queue URL`, and the URL as logs may show it (no password). */
export interface QueueConnection {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  /** TLS options for `rediss://` (the CA of `--queue-ca` when given, else the system's). */
  tls?: { ca?: string; servername?: string };
  /** `redis://user:***@host:port/db`: safe to print. */
  display: string;
}

/** The environment variable a password may come from instead of the URL (which `ps` and shell history show). */
export const PASSWORD_ENV = 'QSATTN_REDIS_PASSWORD';

/**
 * Parses `redis://[[user]:password@]host[:port][/db]` or `rediss://…` (TLS). A password missing from the URL is
 * taken from QSATTN_REDIS_PASSWORD. Never puts the password in `display` or in an error.
 */
export function parseQueueUrl(url: string, options: { ca?: string; env?: NodeJS.ProcessEnv } = {}): QueueConnection {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--queue needs a URL like redis://HOST:PORT or rediss://HOST:PORT, got '${redact(url)}'`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new UsageError(`--queue needs a redis:// or rediss:// URL, got ${parsed.protocol}// (${redact(url)})`);
  }
  if (parsed.hostname === '') throw new UsageError(`--queue ${redact(url)}: no host`);
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new UsageError(`--queue ${redact(url)}: the path must be a database number, got '/${db}'`);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  const username = parsed.username === '' ? undefined : decodeURIComponent(parsed.username);
  const password = parsed.password !== '' ? decodeURIComponent(parsed.password) : options.env?.[PASSWORD_ENV] || undefined;
  const connection: QueueConnection = { host, port, db: db === '' ? 0 : Number(db), username, password, display: redact(url) };
  if (parsed.protocol === 'rediss:') {
    // SNI takes host names only; an IP address is checked against the certificate's IP entries.
    connection.tls = isIP(host) === 0 ? { servername: host } : {};
    if (options.ca !== undefined) {
      try {
        connection.tls.ca = readFileSync(options.ca, 'utf8');
      } catch (err) {
        throw new InputError(`--queue-ca ${options.ca}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
    }
  } else if (options.ca !== undefined) {
    throw new UsageError('--queue-ca is for rediss:// (TLS) URLs only');
  }
  return connection;
}

/** A URL with its password replaced by `***` (also for strings that do not parse). */
export function redact(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/]*)@/i, (_, scheme: string, auth: string) => {
    const colon = auth.indexOf(':');
    return `${scheme}${colon < 0 ? '***' : `${auth.slice(0, colon)}:***`}@`;
  });
}
