/**
 * Pads cells so that columns line up, two spaces apart. Columns listed in `right` are right-aligned (numbers);
 * the last column is not padded.
 */
export function alignColumns(rows: readonly (readonly string[])[], right: ReadonlySet<number> = new Set()): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) =>
    row
      .map((cell, i) => {
        if (right.has(i)) return cell.padStart(widths[i]);
        return i === row.length - 1 ? cell : cell.padEnd(widths[i]);
      })
      .join('  ')
      .trimEnd(),
  );
}
