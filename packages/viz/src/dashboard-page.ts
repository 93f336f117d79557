// The live dashboard's page: the report's layout, filled from the server's event stream. Vega (served by the
// dashboard from its own node_modules, never copied into a run folder) draws the curves in the page, and rows
// are inserted as they arrive, so the curves grow step by step.
import { escapeHtml, PAGE_STYLE } from './html';

/** The page's script: small on purpose (the page is regenerated per request, and read by tests). */
const CLIENT_SCRIPT = `
const $ = (id) => document.getElementById(id);
const state = { view: null, metrics: '', rows: 0, pending: [] };
window.dashboard = state;
function fmt(s) { if (!isFinite(s)) return '–'; s = Math.round(s); const h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), x = s % 60; return (h ? h + 'h ' : '') + (h || m ? m + 'm ' : '') + x + 's'; }
async function setSpec(spec, rows) {
  if (state.view) state.view.finalize();
  state.view = new vega.View(vega.parse(spec), { renderer: 'svg', container: '#curves', hover: true });
  state.view.insert('curves', rows);
  state.rows = rows.length;
  await state.view.runAsync();
}
function progress(p) {
  const f = p.totalSteps > 0 ? Math.min(1, p.step / p.totalSteps) : 0;
  $('bar').style.width = (100 * f).toFixed(1) + '%';
  $('step').textContent = 'step ' + p.step + ' of ' + p.totalSteps + (p.epoch ? ', epoch ' + p.epoch + ' of ' + p.lastEpoch : '');
  $('rate').textContent = p.stepsPerSecond ? p.stepsPerSecond.toFixed(2) + ' steps/s' : '–';
  $('eta').textContent = fmt(p.etaSeconds);
  $('elapsed').textContent = fmt(p.elapsedSeconds);
}
function status(s) { const el = $('status'); el.textContent = s.status; el.className = 'status ' + s.status; $('note').textContent = s.note || ''; }
function snapshot(s) {
  $('snaplabel').textContent = s.label + ' (step ' + s.step + ')';
  $('grid').src = 'snapshot/' + s.version + '/grid.png';
  $('maps').innerHTML = s.maps.map((m, i) =>
    '<figure><img class="px" width="256" src="snapshot/' + s.version + '/entropy-' + i + '.png" alt="entropy map"><figcaption>' + m.layer + ': attention entropy (' + m.mode + '); yellow = low; the ' + m.numQueries + ' selected queries outlined in red</figcaption></figure>' +
    '<figure><img class="px" width="256" src="snapshot/' + s.version + '/attention-' + i + '.png" alt="attention row"><figcaption>' + m.layer + ': attention of query ' + m.query + ' (cyan), ' + m.extent + '</figcaption></figure>').join('');
}
const events = new EventSource('events');
events.addEventListener('curves', async (e) => { const d = JSON.parse(e.data); await setSpec(d.spec, d.rows); });
events.addEventListener('rows', async (e) => {
  const d = JSON.parse(e.data);
  if (!state.view) return;
  state.view.insert('curves', d.rows);
  state.rows += d.rows.length;
  await state.view.runAsync();
});
events.addEventListener('progress', (e) => progress(JSON.parse(e.data)));
events.addEventListener('status', (e) => { const s = JSON.parse(e.data); status(s); if (s.status !== 'running') events.close(); });
events.addEventListener('snapshot', (e) => snapshot(JSON.parse(e.data)));
events.onerror = () => { if (events.readyState === 2) $('note').textContent = 'the training process has closed the dashboard'; };
`;

export function dashboardPage(title: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} (live)</title><style>${PAGE_STYLE}</style><script src="vega.min.js"></script></head>
<body><header><h1>${escapeHtml(title)}</h1><div class="sub"><span id="status" class="status running">connecting</span> <span id="step"></span></div></header>
<main>
<section><h2>Progress</h2><div class="progress"><div id="bar" style="width:0%"></div></div>
<table class="kv"><tr><td>speed</td><td id="rate">–</td></tr><tr><td>elapsed</td><td id="elapsed">–</td></tr><tr><td>time left (ETA)</td><td id="eta">–</td></tr></table><p id="note" class="note"></p></section>
<section><h2>Curves</h2><div id="curves"></div><p class="note">Smoothed (exponential moving average, weight 0.6, as TensorBoard) over the raw values (faint); hover a line to read it.</p></section>
<section><h2>Latest images and selection maps <span id="snaplabel" class="note"></span></h2>
<div class="maps"><figure><img id="grid" alt="latest images"><figcaption>real_A | fake_B | real_B | idt_B</figcaption></figure></div>
<h3>What QS-Attn selects</h3><div id="maps" class="maps"></div></section>
</main><script>${CLIENT_SCRIPT}</script></body></html>
`;
}
