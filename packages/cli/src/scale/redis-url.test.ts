import { describe, expect, test } from 'vitest';
import { parseQueueUrl, redact } from './redis-url';

describe('parseQueueUrl', () => {
  test('host, port, database, user and password; the display hides the password', () => {
    expect(parseQueueUrl('redis://127.0.0.1:6380/2')).toEqual({ host: '127.0.0.1', port: 6380, db: 2, username: undefined, password: undefined, display: 'redis://127.0.0.1:6380/2' });
    const withAuth = parseQueueUrl('redis://alice:p%40ss@redis.example:7000');
    expect(withAuth).toMatchObject({ host: 'redis.example', port: 7000, db: 0, username: 'alice', password: 'p@ss', display: 'redis://alice:***@redis.example:7000' });
    expect(parseQueueUrl('redis://:pw@[::1]')).toMatchObject({ host: '::1', port: 6379, username: undefined, password: 'pw', display: 'redis://:***@[::1]' });
  });

  test('the password may come from QSATTN_REDIS_PASSWORD; the URL wins', () => {
    expect(parseQueueUrl('redis://h', { env: { QSATTN_REDIS_PASSWORD: 'fromenv' } }).password).toBe('fromenv');
    expect(parseQueueUrl('redis://:url@h', { env: { QSATTN_REDIS_PASSWORD: 'fromenv' } }).password).toBe('url');
  });

  test('rediss:// turns TLS on (SNI for host names only); --queue-ca only with it', () => {
    expect(parseQueueUrl('rediss://cache.example:6380').tls).toEqual({ servername: 'cache.example' });
    expect(parseQueueUrl('rediss://10.0.0.1').tls).toEqual({});
    expect(parseQueueUrl('redis://h').tls).toBeUndefined();
    expect(() => parseQueueUrl('redis://h', { ca: '/x.pem' })).toThrow('--queue-ca is for rediss:// (TLS) URLs only');
    expect(() => parseQueueUrl('rediss://h', { ca: '/nonexistent/ca.pem' })).toThrow('--queue-ca /nonexistent/ca.pem: cannot read it (ENOENT)');
  });

  test('bad URLs are usage errors that never show the password', () => {
    expect(() => parseQueueUrl('http://u:secret@h')).toThrow('--queue needs a redis:// or rediss:// URL, got http:// (http://u:***@h)');
    expect(() => parseQueueUrl('redis://:secret@h/abc')).toThrow("--queue redis://:***@h/abc: the path must be a database number, got '/abc'");
    expect(() => parseQueueUrl('127.0.0.1:6379')).toThrow(/^--queue needs a/);
    expect(() => parseQueueUrl('not a url')).toThrow("--queue needs a URL like redis://HOST:PORT or rediss://HOST:PORT, got 'not a url'");
  });

  test('redact', () => {
    expect(redact('redis://:pw@h:1')).toBe('redis://:***@h:1');
    expect(redact('rediss://user:pw@h')).toBe('rediss://user:***@h');
    expect(redact('redis://pw@h')).toBe('redis://***@h');
    expect(redact('redis://h:1')).toBe('redis://h:1');
  });
});
