const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export interface IndexRow {
  name: string;
  /** Image paths relative to the page, one per column. */
  images: string[];
}

/** The official results page, simplified: a title, then per image a row of its input and output. */
export function resultsPage(title: string, columns: readonly string[], rows: readonly IndexRow[], note?: string): string {
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = rows
    .map((row) => {
      const cells = row.images.map((src, i) => `<td><a href="${encodeURI(src)}"><img src="${encodeURI(src)}" alt="${escapeHtml(`${columns[i]} ${row.name}`)}" width="256"></a></td>`);
      return `<tr><td>${escapeHtml(row.name)}</td>${cells.join('')}</tr>`;
    })
    .join('\n');
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif}td,th{padding:4px;text-align:center}img{image-rendering:pixelated}</style></head>
<body><h1>${escapeHtml(title)}</h1>${note === undefined ? '' : `\n<p>${escapeHtml(note)}</p>`}
<table><tr><th>image</th>${head}</tr>
${body}
</table></body></html>
`;
}
