// Test-only float64 references of QS-Attn's selection and attention, written from SPEC, independent of tfjs.
import type { LocalLayout } from '../local-windows';

export interface Features {
  /** NHWC values. */
  values: Float64Array;
  shape: [number, number, number, number];
}

export function softmax64(logits: number[]): number[] {
  const max = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

export function entropy64(p: number[]): number {
  return p.reduce((s, v) => (v > 0 ? s - v * Math.log(v) : s), 0);
}

function token(f: Features, b: number, p: number): number[] {
  const [, h, w, c] = f.shape;
  return Array.from(f.values.subarray((b * h * w + p) * c, (b * h * w + p + 1) * c));
}

const dot = (a: number[], b: number[]): number => a.reduce((s, v, i) => s + v * b[i], 0);

/** The true window cells around position p: k² rows of C (zero outside). */
export function window64(f: Features, b: number, p: number, k: number): number[][] {
  const [, height, width, channels] = f.shape;
  const r = (k - 1) / 2;
  const row = Math.floor(p / width);
  const col = p % width;
  const cells: number[][] = [];
  for (let dy = -r; dy <= r; dy++) {
    for (let dx = -r; dx <= r; dx++) {
      const y = row + dy;
      const x = col + dx;
      cells.push(y < 0 || y >= height || x < 0 || x >= width ? new Array(channels).fill(0) : token(f, b, y * width + x));
    }
  }
  return cells;
}

/** PyTorch's unfold vector at p: channel-major, u[c·k² + j]. */
function unfold64(f: Features, b: number, p: number, k: number): number[] {
  const cells = window64(f, b, p, k);
  const channels = f.shape[3];
  const u: number[] = [];
  for (let c = 0; c < channels; c++) for (let j = 0; j < k * k; j++) u.push(cells[j][c]);
  return u;
}

function keys64(f: Features, b: number, p: number, k: number, layout: LocalLayout): number[][] {
  if (layout === 'paper-window') return window64(f, b, p, k);
  const u = unfold64(f, b, p, k);
  const channels = f.shape[3];
  return Array.from({ length: k * k }, (_, j) => u.slice(j * channels, (j + 1) * channels));
}

export function globalAttentionRow64(f: Features, b: number, p: number): number[] {
  const [, h, w] = f.shape;
  const q = token(f, b, p);
  return softmax64(Array.from({ length: h * w }, (_, j) => dot(q, token(f, b, j))));
}

export function localAttentionRow64(f: Features, b: number, p: number, k: number, layout: LocalLayout): number[] {
  const q = token(f, b, p);
  return softmax64(keys64(f, b, p, k, layout).map((key) => dot(key, q)));
}

/** Per image, positions sorted by (entropy, index), first n. */
export function select64(entropies: number[], n: number): number[] {
  return entropies
    .map((e, i) => [e, i])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
    .slice(0, n)
    .map(([, i]) => i);
}

/** x for the selected ids of image b in `local` mode, `[n][C]`, either layout. */
export function localAttend64(f: Features, b: number, ids: number[], k: number, layout: LocalLayout, attnFrom: Features = f): number[][] {
  const channels = f.shape[3];
  const cells = k * k;
  const n = ids.length;
  const attn = ids.map((p) => localAttentionRow64(attnFrom, b, p, k, layout));
  if (layout === 'paper-window') {
    return ids.map((p, i) => {
      const w = window64(f, b, p, k);
      return Array.from({ length: channels }, (_, c) => w.reduce((s, cell, j) => s + attn[i][j] * cell[c], 0));
    });
  }
  // M = [u_{s_1} … u_{s_n}] ([k²C, n]) read row-major as [n, k², C].
  const u = ids.map((p) => unfold64(f, b, p, k));
  const flat = (index: number): number => u[index % n][Math.floor(index / n)];
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: channels }, (_, c) => {
      let s = 0;
      for (let j = 0; j < cells; j++) s += attn[i][j] * flat(i * cells * channels + j * channels + c);
      return s;
    }),
  );
}

/** x for the selected ids of image b in `global` mode, `[n][C]`. */
export function globalAttend64(f: Features, b: number, ids: number[], attnFrom: Features = f): number[][] {
  const [, h, w, channels] = f.shape;
  return ids.map((p) => {
    const a = globalAttentionRow64(attnFrom, b, p);
    return Array.from({ length: channels }, (_, c) => a.reduce((s, v, j) => s + v * token(f, b, j)[c], 0));
  }).slice(0, h * w);
}
