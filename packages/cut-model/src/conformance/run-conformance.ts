import * as tf from '@tensorflow/tfjs-core';
import { nchwToNhwc, rawToTensors, readSafetensors } from '@qsattn/core';
import { CutModel, disposeStepRecord, type NceRecord, type StepRecord } from '../cut-model';
import { biasesCancelledByNorm } from '../layer-spec';
import { parseOfficialArgs } from '../official-args';
import { type Comparison, compareAfterStep, compareGradient, compareValues, maxAbs } from './tolerances';

/** One line of the conformance table. */
export interface ConformanceRow extends Comparison {
  group: string;
  /** Recorded tensors compared in this group. */
  count: number;
}

export interface ConformanceReport {
  source: string;
  options: string[];
  rows: ConformanceRow[];
  ok: boolean;
}

type Tensors = tf.NamedTensorMap;

function pick(tensors: Tensors, prefix: string): Tensors {
  return Object.fromEntries(Object.entries(tensors).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
}

/** Collects comparisons per group and keeps the worst of each (the largest error relative to its tolerance). */
class Table {
  private readonly rows = new Map<string, ConformanceRow>();

  add(group: string, c: Comparison): void {
    const ratio = (x: Comparison): number => (x.error === 0 ? 0 : x.tolerance === 0 ? Infinity : x.error / x.tolerance);
    const row = this.rows.get(group);
    const count = (row?.count ?? 0) + 1;
    this.rows.set(group, row == null || !(ratio(c) <= ratio(row)) ? { group, ...c, count } : { ...row, count });
  }

  list(): ConformanceRow[] {
    return [...this.rows.values()];
  }
}

const data = (t: tf.Tensor): Float32Array => t.dataSync() as Float32Array;

/** An NHWC tensor's values in the recordings' NCHW order. */
function nchwData(t: tf.Tensor4D): Float32Array {
  const nchw = tf.transpose(t, [0, 3, 1, 2]);
  const values = data(nchw);
  nchw.dispose();
  return values;
}

/** Rows of `[n, d]` matrices; recorded row i is matched to the closest of ours (SPEC: QS rows compare as sets). */
function matchRows(ours: Float32Array, recorded: Float32Array, n: number): number[] {
  const d = recorded.length / n;
  const used = new Set<number>();
  const match: number[] = [];
  for (let i = 0; i < n; i++) {
    let best = -1;
    let bestErr = Infinity;
    for (let j = 0; j < n; j++) {
      if (used.has(j)) continue;
      let err = 0;
      for (let k = 0; k < d && err < bestErr; k++) err = Math.max(err, Math.abs(recorded[i * d + k] - ours[j * d + k]));
      if (err < bestErr) {
        bestErr = err;
        best = j;
      }
    }
    used.add(best);
    match.push(best);
  }
  return match;
}

function permuteRows(values: Float32Array, order: number[], n: number): Float32Array {
  const d = values.length / n;
  const out = new Float32Array(values.length);
  order.forEach((src, i) => out.set(values.subarray(src * d, (src + 1) * d), i * d));
  return out;
}

function compareNcePass(table: Table, tag: string, rec: NceRecord, recorded: Tensors, qsLayers: Set<number>, localMode: boolean): void {
  rec.featK.forEach((f, l) => {
    table.add(`${tag}.feat_k`, compareValues(nchwData(f), data(recorded[`feat_k.${l}`])));
    table.add(`${tag}.feat_q`, compareValues(nchwData(rec.featQ[l]), data(recorded[`feat_q.${l}`])));
    const grad = nchwData(rec.gradFeatK[l]);
    const wantGrad = data(recorded[`grad_feat_k.${l}`]);
    table.add(`${tag}.grad_feat_k`, compareGradient(grad, wantGrad));
    const rows = rec.rowLosses[l].shape[0];
    let pk = data(rec.pooledK[l]);
    let pq = data(rec.pooledQ[l]);
    let loss = data(rec.rowLosses[l]);
    const sample = rec.samples[l];
    if (qsLayers.has(l) && !localMode && 'attn' in sample) {
      // Each selected row is computed on its own, so rows compare as sets: align ours to the recording by attention.
      const attn = data(sample.attn);
      const order = matchRows(attn, data(recorded[`attn.${l}`]), rows);
      table.add(`${tag}.attn`, compareValues(permuteRows(attn, order, rows), data(recorded[`attn.${l}`])));
      pk = permuteRows(pk, order, rows);
      pq = permuteRows(pq, order, rows);
      loss = permuteRows(loss, order, rows);
    } else if ('attn' in sample) {
      table.add(`${tag}.attn`, compareValues(data(sample.attn), data(recorded[`attn.${l}`])));
    }
    if (recorded[`ids.${l}`] != null) {
      const ours = Array.from(sample.ids instanceof Int32Array ? sample.ids : sample.ids.flatMap((a) => Array.from(a)));
      const want = Array.from(recorded[`ids.${l}`].dataSync());
      const same = qsLayers.has(l)
        ? JSON.stringify([...ours].sort((a, b) => a - b)) === JSON.stringify([...want].sort((a, b) => a - b))
        : JSON.stringify(ours) === JSON.stringify(want);
      table.add(`${tag}.ids`, { error: same ? 0 : 1, tolerance: 0, ok: same });
    }
    table.add(`${tag}.pool_k`, compareValues(pk, data(recorded[`pool_k.${l}`])));
    table.add(`${tag}.pool_q`, compareValues(pq, data(recorded[`pool_q.${l}`])));
    table.add(`${tag}.loss`, compareValues(loss, data(recorded[`loss.${l}`])));
  });
}

function compareNetwork(
  table: Table,
  net: 'G' | 'F' | 'D',
  ours: Tensors,
  after: Tensors,
  recorded: Tensors,
  lr: number,
  exactlyZero: ReadonlySet<string> = new Set(),
): void {
  const grads = pick(recorded, `grad.${net}.`);
  const networkMax = Math.max(...Object.values(grads).map((g) => maxAbs(data(g))));
  for (const [name, want] of Object.entries(grads)) {
    const got = ours[name];
    if (got == null) {
      table.add(`grad.${net}`, { error: Infinity, tolerance: 0, ok: false });
      continue;
    }
    const g = compareGradient(data(got), data(want), { networkMax, exactlyZero: exactlyZero.has(name) });
    table.add(`grad.${net}`, g);
    table.add(`after.${net}`, compareAfterStep(data(after[name]), data(recorded[`after.${net}.${name}`]), data(want), g.tolerance, lr));
  }
}

/**
 * Replays one recorded official training step (SPEC "Conformance fixtures") and compares every recorded group
 * under SPEC's tolerances. The model is built from the recording's `official_args`; the recorded patch ids (and,
 * in `local` mode, the recorded query order) are fed in, as SPEC prescribes.
 */
export function runConformance(bytes: Uint8Array, source: string): ConformanceReport {
  const { tensors: raw, metadata } = readSafetensors(bytes, source);
  if (metadata.official_args == null) {
    throw new Error(`${source}: not a recorded official step (no official_args in its metadata)`);
  }
  let args: string[];
  try {
    args = JSON.parse(metadata.official_args);
    if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) throw new Error('not a list of strings');
  } catch (e) {
    throw new Error(`${source}: official_args metadata is not a JSON list of flags (${(e as Error).message})`);
  }
  const { model: options } = parseOfficialArgs(args);
  const tensors = rawToTensors(raw, source);
  const table = new Table();
  // Recordings come from the official code on PyTorch's CPU backend: reproduce its gradients (see torchCpuCompat).
  const model = new CutModel({ ...options, torchCpuCompat: true });
  let rec: StepRecord | undefined;
  try {
    model.loadTorch({ G: pick(tensors, 'init.G.'), D: pick(tensors, 'init.D.'), F: pick(tensors, 'init.F.') }, source);
    const nceLayers = options.nceLayers.length;
    const qsLayers = new Set(options.qsMode === null ? [] : Array.from({ length: Math.max(0, nceLayers - 3) }, (_, i) => i + 3));
    const randomLayers = [...Array(nceLayers).keys()].filter((l) => !qsLayers.has(l));
    const perms = (offset: number): (Int32Array | undefined)[] => {
      const ids: (Int32Array | undefined)[] = new Array(nceLayers).fill(undefined);
      randomLayers.forEach((l, i) => {
        const t = tensors[`perm.${offset + i}`];
        if (t == null) throw new Error(`${source}: no recorded perm.${offset + i} for NCE layer ${l}`);
        ids[l] = Int32Array.from(t.dataSync());
      });
      return ids;
    };
    const localMode = options.qsMode === 'local';
    const recordedQueries = (tag: string): (Int32Array[] | undefined)[] | undefined =>
      localMode
        ? [...Array(nceLayers).keys()].map((l) => {
            const t = tensors[`${tag}.ids.${l}`];
            if (!qsLayers.has(l) || t == null) return undefined;
            const [b, n] = t.shape.length === 2 ? t.shape : [1, t.shape[0]];
            const flat = t.dataSync();
            return Array.from({ length: b }, (_, i) => Int32Array.from(flat.subarray(i * n, (i + 1) * n)));
          })
        : undefined;
    const realA = nchwToNhwc(tensors['input.real_A']);
    const realB = nchwToNhwc(tensors['input.real_B']);
    const step = model.trainStep(
      realA,
      realB,
      {
        patchIds: { A: perms(0), B: options.nceIdt ? perms(randomLayers.length) : undefined },
        queryIds: { A: recordedQueries('nceA'), B: recordedQueries('nceB') },
        flip: false,
      },
      true,
    );
    tf.dispose([realA, realB]);
    rec = step.record!;
    for (const [name, value] of Object.entries(step.losses)) {
      if (value !== undefined && tensors[`loss.${name}`] != null) table.add('loss', compareValues([value], data(tensors[`loss.${name}`])));
    }
    table.add('out.fake_B', compareValues(nchwData(rec.fakeB), data(tensors['out.fake_B'])));
    if (rec.idtB && tensors['out.idt_B']) table.add('out.idt_B', compareValues(nchwData(rec.idtB), data(tensors['out.idt_B'])));
    compareNcePass(table, 'nceA', rec.nce.A, pick(tensors, 'nceA.'), qsLayers, localMode);
    if (rec.nce.B) compareNcePass(table, 'nceB', rec.nce.B, pick(tensors, 'nceB.'), qsLayers, localMode);
    const afterG = model.netG.params.toTorch();
    const afterD = model.netD.params.toTorch();
    const afterF = model.netF.toTorch();
    compareNetwork(table, 'G', rec.grads.G, afterG, tensors, options.lr, new Set(biasesCancelledByNorm(model.netG.layers)));
    compareNetwork(table, 'F', rec.grads.F, afterF, tensors, options.lr);
    compareNetwork(table, 'D', rec.grads.D, afterD, tensors, options.lr, new Set(biasesCancelledByNorm(model.netD.layers)));
    tf.dispose([...Object.values(afterG), ...Object.values(afterD), ...Object.values(afterF)]);
  } finally {
    if (rec) disposeStepRecord(rec);
    model.dispose();
    tf.dispose(Object.values(tensors));
  }
  const rows = table.list();
  return { source, options: args, rows, ok: rows.every((r) => r.ok) };
}
