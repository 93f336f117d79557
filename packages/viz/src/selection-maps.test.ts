import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { queryAttention, queryEntropies, selectQueries, type QueryMode } from '@qsattn/qsattn';
import { expectNoLeaks, testValues, useBackend } from '../../core/src/testing/harness';
import { attentionOnGrid, attentionPanel, entropyPanel, QUERY_COLOR, SELECTED_COLOR } from './selection-panels';
import { selectionMaps } from './selection-maps';
import { filledRaster, type Raster } from './raster';

const SHAPE: [number, number, number, number] = [2, 6, 8, 5];
const features = (): tf.Tensor4D => tf.tensor4d(Float32Array.from(testValues(SHAPE.reduce((a, b) => a * b), 7), (v) => 2 * v), SHAPE);

function pixel(r: Raster, x: number, y: number): number[] {
  const i = 3 * (y * r.width + x);
  return Array.from(r.data.subarray(i, i + 3));
}

beforeAll(() => useBackend('cpu'));

describe.each<QueryMode>(['global', 'local', 'local_global'])('selectionMaps (%s)', (mode) => {
  const local = { windowSize: 3 };

  test('selects what training selects, with its entropies and attention row, leaking nothing', async () => {
    const feat = features();
    const maps = await selectionMaps(feat, { mode, numQueries: 7, local });
    expect(maps).toHaveLength(2);
    const expected = selectQueries(feat, { mode, numQueries: 7, local });
    const entropies = queryEntropies(feat, { mode, local });
    const all = entropies.arraySync();
    entropies.dispose();
    maps.forEach((m, b) => {
      expect([m.height, m.width]).toEqual([6, 8]);
      expect(Array.from(m.selected)).toEqual(Array.from(expected[b]));
      expect(m.query).toBe(expected[b][0]);
      expect(Array.from(m.entropy)).toEqual(all[b].map(Math.fround));
      const row = tf.tidy(() => queryAttention(tf.slice(feat, [b, 0, 0, 0], [1, -1, -1, -1]), [[m.query]], { mode, local }).dataSync());
      expect(Array.from(m.attention)).toEqual(Array.from(row));
      expect(m.attention.length).toBe(mode === 'local' ? 9 : 48);
      expect(m.extent.kind).toBe(mode === 'local' ? 'window' : 'global');
    });
    await expectNoLeaks(() => selectionMaps(feat, { mode, numQueries: 3, local, query: 5 }).then(() => undefined));
    feat.dispose();
  });

  test('the entropy panel outlines exactly the selected cells; the attention panel the query', async () => {
    const feat = features();
    const [map] = await selectionMaps(feat, { mode, numQueries: 11, local, query: 9 });
    feat.dispose();
    const image = filledRaster(16, 12, [90, 90, 90]);
    const panel = entropyPanel(image, map, { size: 64 });
    expect([panel.width, panel.height]).toEqual([64, 48]);
    const cell = 8;
    for (let id = 0; id < 48; id++) {
      const [x, y] = [(id % 8) * cell, Math.floor(id / 8) * cell];
      expect(pixel(panel, x, y), `cell ${id}`).toEqual(map.selected.includes(id) ? [...SELECTED_COLOR] : expect.not.arrayContaining([255, 0, 0]));
      // The centre of a cell is never the outline colour.
      expect(pixel(panel, x + 4, y + 4)).not.toEqual([...SELECTED_COLOR]);
    }
    const attention = attentionPanel(image, map, { size: 64 });
    expect(pixel(attention, 1 * cell, 1 * cell)).toEqual([...QUERY_COLOR]);
    const grid = attentionOnGrid(map);
    if (mode === 'local') {
      // Query 9 is at row 1, column 1: its 3×3 window covers rows 0–2, columns 0–2; elsewhere the image shows through.
      expect(Number.isNaN(grid[5 * 8 + 7])).toBe(true);
      expect(grid[0]).toBe(map.attention[0]);
      const backdrop = pixel(attention, 7 * cell + 4, 5 * cell + 4);
      expect(backdrop[0]).toBe(backdrop[1]);
    } else {
      expect(grid).toBe(map.attention);
    }
  });
});

test('selectionMaps rejects bad arguments with a clear message', async () => {
  const feat = features();
  await expect(selectionMaps(feat, { mode: 'nope' as QueryMode, numQueries: 3 })).rejects.toThrow(/choose one of global, local, local_global/);
  await expect(selectionMaps(feat, { mode: 'global', numQueries: 0 })).rejects.toThrow(/numQueries/);
  await expect(selectionMaps(feat, { mode: 'global', numQueries: 3, query: 48 })).rejects.toThrow(/\[0, 48\)/);
  feat.dispose();
});
