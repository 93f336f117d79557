/** Text for HTML element content and attribute values. */
export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A relative file path as an attribute value (each segment URI-encoded). */
export const pathAttr = (path: string): string => escapeHtml(path.split(/[\\/]/).map(encodeURIComponent).join('/'));

/** The styles the report and the dashboard share. */
export const PAGE_STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#263238;color:#fff;padding:12px 24px}
header h1{margin:0;font-size:20px;font-weight:600}
header .sub{font-size:13px;opacity:.8;margin-top:4px}
main{padding:8px 24px 32px;max-width:1400px}
section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:12px 16px;margin:16px 0}
h2{font-size:16px;margin:0 0 8px}
h3{font-size:14px;margin:12px 0 6px}
table.kv{border-collapse:collapse;font-size:13px}
table.kv td{padding:2px 12px 2px 0;vertical-align:top}
table.kv td:first-child{color:#666}
.progress{height:10px;background:#e0e0e0;border-radius:5px;overflow:hidden;margin:8px 0;max-width:600px}
.progress>div{height:100%;background:#43a047}
.status{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;background:#546e7a;color:#fff}
.status.running{background:#1e88e5}.status.done{background:#43a047}.status.failed{background:#e53935}.status.stopped{background:#fb8c00}
.maps{display:flex;flex-wrap:wrap;gap:12px}
figure{margin:0}
figcaption{font-size:12px;color:#555;max-width:256px}
img.px{image-rendering:pixelated}
.note{font-size:12px;color:#666}
details summary{cursor:pointer;font-size:14px}
`;
