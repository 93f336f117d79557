// @qsattn/viz/node: the Node-only half — PNG encoding through sharp and the live dashboard server.
import sharp from 'sharp';
import { layoutGrid, type GridRow } from './image-grid';
import type { Raster } from './raster';

export { startDashboard, type Dashboard, type DashboardOptions } from './dashboard-server';

const escapeXml = (text: string): string => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

/** PNG bytes of a raster (gray rasters as 1-channel PNGs). */
export async function rasterPng(image: Raster): Promise<Buffer> {
  const { width, height, channels } = image;
  const pipeline = sharp(image.data, { raw: { width, height, channels } });
  return (channels === 1 ? pipeline.toColourspace('b-w') : pipeline).png().toBuffer();
}

/** An image grid as PNG: column labels on top, row labels at the left, on white. */
export async function gridPng(columns: readonly string[], rows: readonly GridRow[], options: { cell?: number; margin?: number } = {}): Promise<Buffer> {
  const grid = layoutGrid(columns, rows, options);
  const text = grid.labels
    .map((l) => `<text x="${l.x}" y="${l.y}" text-anchor="${l.anchor}" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif" font-size="12" fill="#222">${escapeXml(l.text)}</text>`)
    .join('');
  const svg = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${grid.width}" height="${grid.height}">${text}</svg>`);
  return sharp({ create: { width: grid.width, height: grid.height, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite([
      ...grid.tiles.map((t) => ({ input: Buffer.from(t.image.data), raw: { width: t.image.width, height: t.image.height, channels: 3 as const }, left: t.left, top: t.top })),
      { input: svg, left: 0, top: 0 },
    ])
    .png()
    .toBuffer();
}
