// The layout of an image grid (real_A | fake_B | real_B | idt_B rows with labels), apart from its encoding, so
// that the same layout can be drawn to PNG (node entry, sharp) or laid out in HTML.
import { resizeNearest, toRgb, type Raster } from './raster';

export interface GridRow {
  label?: string;
  /** One image per column; `null` leaves the cell empty (e.g. no idt_B without NCE_Y). */
  images: (Raster | null)[];
}

export interface GridLayout {
  width: number;
  height: number;
  cell: number;
  header: number;
  margin: number;
  labelWidth: number;
  tiles: { left: number; top: number; image: Raster }[];
  labels: { x: number; y: number; text: string; anchor: 'middle' | 'start' }[];
}

/** Places the grid: square cells of `cell` pixels (images scaled by nearest neighbour), column labels on top, row labels at the left. */
export function layoutGrid(columns: readonly string[], rows: readonly GridRow[], { cell = 128, margin = 4 }: { cell?: number; margin?: number } = {}): GridLayout {
  if (rows.length === 0) throw new Error('an image grid needs at least one row');
  for (const row of rows) {
    if (row.images.length !== columns.length) throw new Error(`grid row ${row.label ?? ''} has ${row.images.length} images for ${columns.length} columns`);
  }
  const header = 20;
  const labelWidth = rows.some((r) => r.label) ? Math.max(...rows.map((r) => (r.label ?? '').length)) * 7 + 12 : 0;
  const tiles: GridLayout['tiles'] = [];
  const labels: GridLayout['labels'] = [];
  columns.forEach((text, c) => labels.push({ x: labelWidth + margin + c * (cell + margin) + cell / 2, y: 15, text, anchor: 'middle' }));
  rows.forEach((row, r) => {
    const top = header + margin + r * (cell + margin);
    if (row.label) labels.push({ x: 6, y: top + cell / 2 + 5, text: row.label, anchor: 'start' });
    row.images.forEach((image, c) => {
      if (image === null) return;
      const height = Math.max(1, Math.round((cell * image.height) / image.width));
      tiles.push({ left: labelWidth + margin + c * (cell + margin), top, image: resizeNearest(toRgb(image), cell, Math.min(cell, height)) });
    });
  });
  return {
    width: labelWidth + margin + columns.length * (cell + margin),
    height: header + margin + rows.length * (cell + margin),
    cell,
    header,
    margin,
    labelWidth,
    tiles,
    labels,
  };
}
