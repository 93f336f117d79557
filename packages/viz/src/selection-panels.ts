// A selection map drawn over the image it came from: the entropy panel (selected queries outlined) and the
// attention panel (one query's row as a heatmap, over the whole map or its window).
import { blend, colorize, grayBackdrop, outlineCells, resizeNearest, toRgb, type Raster, type Rgb } from './raster';
import type { SelectionMap } from './selection-maps';

export const SELECTED_COLOR: Rgb = [255, 0, 0];
export const QUERY_COLOR: Rgb = [0, 255, 255];

export interface PanelOptions {
  /** Width of the panel in pixels (the height follows the image's aspect). Default 256. */
  size?: number;
  /** Opacity of the heatmap over the gray image. Default 0.6. */
  opacity?: number;
}

function backdrop(image: Raster, map: SelectionMap, size: number): Raster {
  // At least a few pixels per cell, so that the outlines leave the cells readable.
  const width = Math.max(size, map.width * 4);
  const height = Math.round((width * image.height) / image.width);
  return grayBackdrop(resizeNearest(toRgb(image), width, height), 0.8);
}

/**
 * The entropy of every position as a heatmap over the (gray) image — yellow is low entropy, the most
 * confident attention rows — with the selected queries outlined in `SELECTED_COLOR`.
 */
export function entropyPanel(image: Raster, map: SelectionMap, { size = 256, opacity = 0.6 }: PanelOptions = {}): Raster {
  const base = backdrop(image, map, size);
  const negated = map.entropy.map((v) => -v);
  const heat = resizeNearest(colorize(negated, map.width, map.height, { scheme: 'viridis' }), base.width, base.height);
  return outlineCells(blend(base, heat, opacity), map.selected, map.width, map.height, SELECTED_COLOR, Math.max(1, Math.floor(base.width / map.width / 8)));
}

/** The full-map attention weights of a selection map: the row itself, or its window's weights placed at the cells (NaN elsewhere). */
export function attentionOnGrid(map: SelectionMap): Float32Array {
  if (map.extent.kind === 'global') return map.attention;
  const k = map.extent.windowSize;
  const r = (k - 1) / 2;
  const grid = new Float32Array(map.width * map.height).fill(Number.NaN);
  const row = Math.floor(map.query / map.width);
  const col = map.query - row * map.width;
  for (let dy = 0; dy < k; dy++) {
    for (let dx = 0; dx < k; dx++) {
      const y = row + dy - r;
      const x = col + dx - r;
      // Cells beyond the border are the zero padding: they have a weight but no place on the map.
      if (y >= 0 && y < map.height && x >= 0 && x < map.width) grid[y * map.width + x] = map.attention[dy * k + dx];
    }
  }
  return grid;
}

/**
 * One query's attention as a heatmap over the gray image, the query outlined in `QUERY_COLOR`. Weights are
 * shown on a square-root scale of the row's largest (attention rows are peaked), and the heat is as opaque as
 * it is strong, so the image shows through where the query does not look.
 */
export function attentionPanel(image: Raster, map: SelectionMap, { size = 256, opacity = 0.85 }: PanelOptions = {}): Raster {
  const base = backdrop(image, map, size);
  const weights = attentionOnGrid(map);
  let max = 0;
  for (const w of weights) if (w > max) max = w;
  const strength = weights.map((w) => (Number.isNaN(w) || max <= 0 ? 0 : Math.sqrt(w / max)));
  const cells = colorize(strength, map.width, map.height, { scheme: 'inferno', lo: 0, hi: 1 });
  const heat = resizeNearest(cells, base.width, base.height);
  const alpha = new Float32Array(base.width * base.height);
  for (let y = 0; y < base.height; y++) {
    const cy = Math.min(map.height - 1, Math.floor((y * map.height) / base.height));
    for (let x = 0; x < base.width; x++) {
      const cx = Math.min(map.width - 1, Math.floor((x * map.width) / base.width));
      // Outside a local window there is no weight: the image shows through.
      alpha[y * base.width + x] = opacity * (0.25 + 0.75 * strength[cy * map.width + cx]) * (Number.isNaN(weights[cy * map.width + cx]) ? 0 : 1);
    }
  }
  return outlineCells(blend(base, heat, alpha), [map.query], map.width, map.height, QUERY_COLOR, Math.max(1, Math.floor(base.width / map.width / 6)));
}
