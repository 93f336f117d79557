import { describe, expect, test } from 'vitest';
import { DownloadProgressBar } from './download-progress';

function sink(isTTY: boolean) {
  const out: string[] = [];
  return { out, sink: { write: (text: string) => out.push(text), isTTY, columns: 200 } };
}

describe('DownloadProgressBar', () => {
  test('on a terminal: one bar redrawn in place with bytes, rate, ETA; the header once', () => {
    const { out, sink: s } = sink(true);
    const bar = new DownloadProgressBar(s, 'maps', 'downloading maps from http://x/maps.zip');
    bar.download({ url: 'u', received: 1024 ** 2, total: 4 * 1024 ** 2, bytesPerSecond: 2 * 1024 ** 2, etaSeconds: 1.5, resumedFrom: 0 });
    bar.download({ url: 'u', received: 4 * 1024 ** 2, total: 4 * 1024 ** 2, bytesPerSecond: 2 * 1024 ** 2, etaSeconds: 0, resumedFrom: 0 });
    bar.finish();
    expect(out).toEqual([
      'downloading maps from http://x/maps.zip\n',
      '\r\x1b[2K[#####...............] maps 1.0 MiB of 4.0 MiB  2.0 MiB/s  ETA 2s',
      '\r\x1b[2K[####################] maps 4.0 MiB of 4.0 MiB  2.0 MiB/s  ETA 0s',
      '\n',
    ]);
  });

  test('elsewhere: a line per tenth, the resume point, retries as lines', () => {
    const { out, sink: s } = sink(false);
    const bar = new DownloadProgressBar(s, 'maps');
    for (const received of [100, 150, 500, 1000]) bar.download({ url: 'u', received, total: 1000, bytesPerSecond: NaN, resumedFrom: 100 });
    bar.message('maps: the server answered 503; retrying in 1.0 s (attempt 2)');
    expect(out).toEqual([
      'maps: 100 B of 1000 B  (resumed at 100 B)\n',
      'maps: 500 B of 1000 B  (resumed at 100 B)\n',
      'maps: 1000 B of 1000 B  (resumed at 100 B)\n',
      'maps: the server answered 503; retrying in 1.0 s (attempt 2)\n',
    ]);
  });
});
