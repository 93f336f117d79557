import * as tf from '@tensorflow/tfjs-core';
import { nchwToNhwc, rawToTensors, readSafetensors, type RawTensorMap } from '@qsattn/core';
import { ActivationBranches, describeUnit, type NearKink } from '../activation-branches';
import { CutModel, disposeStepRecord, type NceRecord, type StepRecord } from '../cut-model';
import { biasesCancelledByNorm } from '../layer-spec';
import { parseOfficialArgs } from '../official-args';
import type { ModelOptions } from '../options';
import { type Comparison, compareAfterStep, compareGradient, compareValues, maxAbs, maxDiff } from './tolerances';
import { checkSelection, recoverGlobalSelection } from './recorded-selection';
import { defaultQsLayers, type LocalWindowOptions, type QueryMode } from '@qsattn/qsattn';

/** One line of the conformance table. */
export interface ConformanceRow extends Comparison {
  group: string;
  /** Recorded tensors compared in this group. */
  count: number;
  /** Set when some tensor of the group was judged against the float64 replay (`judgeGradient`). */
  judged?: 'float64';
}

export interface ConformanceReport {
  source: string;
  options: string[];
  rows: ConformanceRow[];
  ok: boolean;
  /** With `dump`: our values under the recording's key names and in its layout (NCHW, PyTorch weight layouts). */
  dumped?: RawTensorMap;
  /**
   * The rectifier units whose branch the replay took the other way (within float32 rounding of their kink, where the
   * recording's gradients show the official step went the other way), and how many near-kink units the step had.
   */
  branches: { flipped: (NearKink & { where: string })[]; nearKinks: number };
}

export interface ConformanceOptions {
  /** Also return our values of every recorded group (`ConformanceReport.dumped`), e.g. to compare them elsewhere. */
  dump?: boolean;
  /** A float64 replay of the recording (safetensors: `grad.*`, `nceA.grad_feat_k.*`, …), see `judgeGradient`. */
  truth?: Uint8Array;
}

type Tensors = tf.NamedTensorMap;

function pick(tensors: Tensors, prefix: string): Tensors {
  return Object.fromEntries(Object.entries(tensors).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
}

/** Collects comparisons per group and keeps the worst of each (the largest error relative to its tolerance). */
class Table {
  private readonly rows = new Map<string, ConformanceRow>();
  /** Per group, Σ log2(error / tolerance) over its gradient comparisons that fail: how far its gradients are. */
  readonly excess = new Map<string, number>();
  /** The weight gradients out of tolerance, with where each is farthest off. */
  readonly outliers: Outlier[] = [];

  add(group: string, c: Comparison & { judge?: Judge }): void {
    const ratio = (x: Comparison): number => (x.error === 0 ? 0 : x.tolerance === 0 ? Infinity : x.error / x.tolerance);
    if (group.startsWith('grad.') || group.endsWith('.grad_feat_k')) {
      this.excess.set(group, (this.excess.get(group) ?? 0) + Math.max(0, Math.log2(ratio(c))));
    }
    const row = this.rows.get(group);
    const count = (row?.count ?? 0) + 1;
    const judged = c.judge === 'float64' || row?.judged === 'float64' ? { judged: 'float64' as const } : {};
    const worst = row == null || !(ratio(c) <= ratio(row)) ? { group, error: c.error, tolerance: c.tolerance, ok: c.ok } : row;
    this.rows.set(group, { ...worst, count, ...judged });
  }

  list(): ConformanceRow[] {
    return [...this.rows.values()];
  }
}

/** How a gradient tensor passed: against the recording (SPEC), or, where the recording is itself float32 noise, against the float64 truth. */
type Judge = 'recording' | 'float64';

/** Values read back asynchronously: GPU backends (webgpu in Node) cannot read synchronously. */
const data = async (t: tf.Tensor): Promise<Float32Array> => (await t.data()) as Float32Array;

/** An NHWC tensor's values in the recordings' NCHW order. */
async function nchwData(t: tf.Tensor4D): Promise<Float32Array> {
  const nchw = tf.transpose(t, [0, 3, 1, 2]);
  const values = await data(nchw);
  nchw.dispose();
  return values;
}

/** Our values under the recording's key names (`dump`), as float32 in the recording's layout. */
class Dump {
  readonly tensors: RawTensorMap = {};

  constructor(private readonly enabled: boolean) {}

  put(name: string, values: ArrayLike<number>, shape: number[]): void {
    if (this.enabled) this.tensors[name] = { dtype: 'F32', shape, data: Float32Array.from(values) };
  }

  async putTensor(name: string, t: tf.Tensor, layout: 'as-is' | 'nchw' = 'as-is'): Promise<void> {
    if (!this.enabled) return;
    if (layout === 'nchw') {
      const [b, h, w, c] = t.shape;
      this.put(name, await nchwData(t as tf.Tensor4D), [b, c, h, w]);
    } else {
      this.put(name, await data(t), t.shape);
    }
  }
}

interface QsReplay {
  /** The NCE layers that select queries. */
  layers: Set<number>;
  mode: QueryMode;
  local?: LocalWindowOptions;
}

async function compareNcePass(
  table: Table,
  dump: Dump,
  tag: string,
  rec: NceRecord,
  recorded: Tensors,
  truth: Tensors | undefined,
  qs: QsReplay,
): Promise<void> {
  for (const [l, f] of rec.featK.entries()) {
    const at = (group: string): string => `${tag}.${group}.${l}`;
    table.add(`${tag}.feat_k`, compareValues(await nchwData(f), await data(recorded[`feat_k.${l}`])));
    table.add(`${tag}.feat_q`, compareValues(await nchwData(rec.featQ[l]), await data(recorded[`feat_q.${l}`])));
    table.add(`${tag}.grad_feat_k`, await judgeGradient(await nchwData(rec.gradFeatK[l]), await data(recorded[`grad_feat_k.${l}`]), truth?.[`${tag}.grad_feat_k.${l}`]));
    await dump.putTensor(at('feat_k'), f, 'nchw');
    await dump.putTensor(at('feat_q'), rec.featQ[l], 'nchw');
    await dump.putTensor(at('grad_feat_k'), rec.gradFeatK[l], 'nchw');
    const sample = rec.samples[l];
    if ('attn' in sample) {
      // The recorded selection was replayed in its recorded order, so rows align; ours is judged by entropy.
      table.add(`${tag}.attn`, compareValues(await data(sample.attn), await data(recorded[`attn.${l}`])));
      await dump.putTensor(at('attn'), sample.attn);
      const selection = await checkSelection(f, sample.ids, qs);
      table.add(`${tag}.select`, selection);
      dump.put(at('ids'), selection.ours.flatMap((ids) => Array.from(ids)), [selection.ours.length, selection.ours[0].length]);
    } else if (recorded[`ids.${l}`] != null) {
      const same = JSON.stringify(Array.from(sample.ids)) === JSON.stringify(Array.from(await recorded[`ids.${l}`].data()));
      table.add(`${tag}.ids`, { error: same ? 0 : 1, tolerance: 0, ok: same });
    }
    table.add(`${tag}.pool_k`, compareValues(await data(rec.pooledK[l]), await data(recorded[`pool_k.${l}`])));
    table.add(`${tag}.pool_q`, compareValues(await data(rec.pooledQ[l]), await data(recorded[`pool_q.${l}`])));
    table.add(`${tag}.loss`, compareValues(await data(rec.rowLosses[l]), await data(recorded[`loss.${l}`])));
    await dump.putTensor(at('pool_k'), rec.pooledK[l]);
    await dump.putTensor(at('pool_q'), rec.pooledQ[l]);
    await dump.putTensor(at('loss'), rec.rowLosses[l]);
  }
}

/**
 * The recorded selection of every QS layer of one NCE pass, per image in recorded order: `local` records its ids;
 * `global` and `local_global` record only the selected rows of the global attention, which identify them.
 */
async function recordedSelection(tensors: Tensors, tag: string, nceLayers: number, qs: QsReplay, source: string): Promise<(Int32Array[] | undefined)[]> {
  return Promise.all([...Array(nceLayers).keys()].map(async (l) => {
    if (!qs.layers.has(l)) return undefined;
    const ids = tensors[`${tag}.ids.${l}`];
    if (ids != null) {
      const [b, n] = ids.shape.length === 2 ? ids.shape : [1, ids.shape[0]];
      const flat = await ids.data();
      return Array.from({ length: b }, (_, i) => Int32Array.from(flat.subarray(i * n, (i + 1) * n)));
    }
    const feat = tensors[`${tag}.feat_k.${l}`];
    const attn = tensors[`${tag}.attn.${l}`];
    if (feat == null || attn == null) throw new Error(`${source}: no recorded ${tag}.ids.${l} nor ${tag}.feat_k.${l} and ${tag}.attn.${l} to read the selection from`);
    const nhwc = nchwToNhwc(feat);
    const values = await data(nhwc);
    nhwc.dispose();
    return recoverGlobalSelection({ shape: nhwc.shape, values }, { shape: attn.shape, values: await data(attn) });
  }));
}

async function compareNetwork(
  table: Table,
  net: 'G' | 'F' | 'D',
  ours: Tensors,
  after: Tensors,
  recorded: Tensors,
  truth: Tensors | undefined,
  lr: number,
  exactlyZero: ReadonlySet<string> = new Set(),
): Promise<void> {
  const grads = pick(recorded, `grad.${net}.`);
  const networkMax = Math.max(...(await Promise.all(Object.values(grads).map(data))).map(maxAbs));
  for (const [name, want] of Object.entries(grads)) {
    const got = ours[name];
    if (got == null) {
      table.add(`grad.${net}`, { error: Infinity, tolerance: 0, ok: false });
      continue;
    }
    const values = await data(got);
    const { reference, ...g } = await judgeGradient(values, await data(want), truth?.[`grad.${net}.${name}`], { networkMax, exactlyZero: exactlyZero.has(name) });
    table.add(`grad.${net}`, g);
    if (!g.ok && want.rank >= 1) table.outliers.push({ net, name, shape: want.shape, at: argMaxDiff(values, reference), ratio: g.error / g.tolerance });
    table.add(`after.${net}`, compareAfterStep(await data(after[name]), await data(recorded[`after.${net}.${name}`]), await data(want), g.tolerance, lr));
  }
}

/** A weight gradient out of tolerance: its network, name, recorded (PyTorch) shape, farthest-off element and error / tolerance. */
export interface Outlier {
  net: 'G' | 'F' | 'D';
  name: string;
  shape: number[];
  at: number;
  ratio: number;
}

function argMaxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let at = 0;
  for (let i = 0, worst = -1; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > worst) [worst, at] = [d, i];
  }
  return at;
}

/**
 * The near-kink units that alone can put one weight gradient far out of tolerance while the rest agree: those of the
 * first rectifier after the layer, in any pass of its network (`model.14.conv_block.1.weight` → the units of
 * `model.14.conv_block.3` among `units`; the next one that has units, if that one has none left), in the output
 * channel of the gradient's farthest-off element (dimension 0 of a conv weight or bias, 1 of a transposed conv's
 * weight; both are tried). A unit there on the other branch changes that channel's gradient and little else.
 */
export function unitsBehind(outlier: Outlier, units: readonly NearKink[]): NearKink[] {
  const module = outlier.name.replace(/\.(weight|bias)$/, '');
  const split = module.lastIndexOf('.');
  const [parent, index] = [module.slice(0, split), Number(module.slice(split + 1))];
  const layerOf = (u: NearKink): number | undefined => {
    if (u.site[0] !== outlier.net) return undefined; // 'G(real):…', 'F(A query):…', 'D(real_B), D step:…'
    const path = u.site.slice(u.site.indexOf(':') + 1).replace(/\.$/, '');
    const cut = path.lastIndexOf('.');
    return path.slice(0, cut) === parent ? Number(path.slice(cut + 1)) : undefined;
  };
  const after = units.map(layerOf).filter((i): i is number => i !== undefined && i > index);
  if (after.length === 0) return [];
  const next = Math.min(...after);
  const strides = outlier.shape.map((_, d) => outlier.shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const channels = new Set([0, 1].filter((d) => d < outlier.shape.length).map((d) => Math.floor(outlier.at / strides[d]) % outlier.shape[d]));
  return units.filter((u) => layerOf(u) === next && channels.has(u.index % u.shape[u.shape.length - 1]));
}

/**
 * A gradient against the recording under SPEC's tolerance; where that fails and a float64 replay of the recorded
 * step is at hand (`truth`), against the float64 values instead: ours must be within SPEC's tolerance of them, or
 * no farther from them than twice the official float32 values are. Tiny or nearly cancelling gradients are float32
 * noise in any implementation, the official one included, and only the exact values can judge them.
 */
async function judgeGradient(
  got: Float32Array,
  want: Float32Array,
  truth: tf.Tensor | undefined,
  options: { networkMax?: number; exactlyZero?: boolean } = {},
): Promise<Comparison & { judge: Judge; reference: Float32Array }> {
  const c = compareGradient(got, want, options);
  if (c.ok || truth == null) return { ...c, judge: 'recording', reference: want };
  const exact = await data(truth);
  const spec = compareGradient(got, exact, options);
  const tolerance = Math.max(spec.tolerance, 2 * maxDiff(want, exact));
  return { error: spec.error, tolerance, ok: spec.error <= tolerance, judge: 'float64', reference: exact };
}

/** At most this many single-unit branch changes are tried, on each side of the step, before a replay is judged as it stands. */
const MAX_BRANCH_TRIALS = 10;

/** The two sides of the step whose rectifier branches are searched apart: the D step, and everything else. */
const BRANCH_SIDES = [
  { holds: (site: string) => !site.includes(', D step'), decides: (group: string) => !/^(grad|after)\.D$/.test(group) },
  { holds: (site: string) => site.includes(', D step'), decides: (group: string) => /^(grad|after)\.D$/.test(group) },
].map((side) => ({
  ...side,
  /** How far the gradients this side decides are out of tolerance, in all. */
  excess: (replay: Replay): number => [...replay.excess].reduce((sum, [group, e]) => sum + (side.decides(group) ? e : 0), 0),
}));

/**
 * Replays one recorded official training step (SPEC "Conformance fixtures") and compares every recorded group
 * under SPEC's tolerances. The model is built from the recording's `official_args`, and the recording's discrete
 * choices are replayed rather than compared:
 * - the patch ids of the random layers;
 * - the query selection of every QS layer, in every mode and in its recorded order (our own selection is checked
 *   separately, by entropy: `checkSelection`), since the official order of entropies equal in float32 is
 *   unspecified;
 * - the branch of a ReLU or LeakyReLU whose input is within float32 rounding of 0 (`ActivationBranches`), where
 *   the recording's gradients show that the official step took the other one: when gradients are out of
 *   tolerance, the near-kink units that pass the most gradient are tried on their other branch one at a time, and
 *   a change is kept when it brings the gradients closer. The units so changed are listed in the report.
 * With `truth` (a float64 replay of the recording, `testdata/fixtures-extra/replay_float64.py --out`), gradient
 * tensors where the recording itself is float32 noise are judged against the exact values (`judgeGradient`).
 */
export async function runConformance(
  bytes: Uint8Array,
  source: string,
  { dump: wantDump = false, truth: truthBytes }: ConformanceOptions = {},
): Promise<ConformanceReport> {
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
  const truthSource = `${source} (float64 replay)`;
  const truth = truthBytes && rawToTensors(readSafetensors(truthBytes, truthSource).tensors, truthSource);
  try {
    const replay = (flips: NearKink[]): Promise<Replay> => replayStep(tensors, truth, options, source, flips, wantDump);
    let best = await replay([]);
    const flipped: NearKink[] = [];
    // The D step's rectifiers decide only D's gradients, every other pass's only G's and F's: each side whose
    // gradients are out of tolerance tries its own near-kink units that pass some gradient, one at a time: the one
    // behind the worst single outlier (`unitsBehind`; the one passing the most gradient, which moves that gradient
    // most) while there is one, else the closest to its kink (the likeliest to lie on the other side in another
    // float32 computation).
    const distance = (u: NearKink): number => Math.abs(u.value) / u.scale;
    const key = (u: NearKink): string => `${u.site}#${u.index}`;
    const tried = new Set<string>();
    for (const side of BRANCH_SIDES) {
      const done = (): boolean => best.rows.every((r) => r.ok || !side.decides(r.group));
      for (let trials = 0; trials < MAX_BRANCH_TRIALS && !done(); trials++) {
        // Chosen afresh after each change kept: a unit put right can uncover the next outlier.
        const units = best.nearKinks
          .filter((u) => u.upstream > 0 && side.holds(u.site) && !tried.has(key(u)))
          .sort((a, b) => distance(a) - distance(b));
        const behind = best.outliers
          .filter((o) => side.decides(`grad.${o.net}`))
          .sort((a, b) => b.ratio - a.ratio)
          .flatMap((o) => unitsBehind(o, units).sort((a, b) => b.upstream - a.upstream));
        const unit = behind[0] ?? units[0];
        if (unit === undefined) break;
        tried.add(key(unit));
        const trial = await replay([...flipped, unit]);
        // A unit behind an outlier is kept when it brings the side's gradients closer at all; any other unit only
        // when it does so clearly (the closest-first guess is kept on evidence, not on noise).
        if (side.excess(trial) < (unit === behind[0] ? 0.99 : 0.8) * side.excess(best)) {
          flipped.push(unit);
          best = trial;
        }
      }
    }
    return {
      source,
      options: args,
      rows: best.rows,
      ok: best.rows.every((r) => r.ok),
      branches: { flipped: flipped.map((u) => ({ ...u, where: describeUnit(u) })), nearKinks: best.nearKinks.length },
      ...(wantDump ? { dumped: best.dumped } : {}),
    };
  } finally {
    tf.dispose(Object.values(tensors));
    if (truth) tf.dispose(Object.values(truth));
  }
}

interface Replay {
  rows: ConformanceRow[];
  /** `Table.excess`: per group, how far its gradients are out of tolerance. */
  excess: ReadonlyMap<string, number>;
  outliers: readonly Outlier[];
  nearKinks: NearKink[];
  dumped: RawTensorMap;
}

/** One replay of the recorded step, taking the other branch at `flips`. */
async function replayStep(
  tensors: Tensors,
  truth: Tensors | undefined,
  options: ModelOptions,
  source: string,
  flips: readonly NearKink[],
  wantDump: boolean,
): Promise<Replay> {
  const table = new Table();
  const dump = new Dump(wantDump);
  const branches = new ActivationBranches(flips);
  // Recordings come from the official code on PyTorch's CPU backend: reproduce its gradients (see torchCpuCompat).
  const model = new CutModel({ ...options, torchCpuCompat: true });
  let rec: StepRecord | undefined;
  try {
    model.loadTorch({ G: pick(tensors, 'init.G.'), D: pick(tensors, 'init.D.'), F: pick(tensors, 'init.F.') }, source);
    const nceLayers = options.nceLayers.length;
    const qs: QsReplay = {
      layers: new Set(options.qsMode === null ? [] : defaultQsLayers(nceLayers)),
      mode: options.qsMode ?? 'global',
    };
    const randomLayers = [...Array(nceLayers).keys()].filter((l) => !qs.layers.has(l));
    const perms = async (offset: number): Promise<(Int32Array | undefined)[]> => {
      const ids: (Int32Array | undefined)[] = new Array(nceLayers).fill(undefined);
      for (const [i, l] of randomLayers.entries()) {
        const t = tensors[`perm.${offset + i}`];
        if (t == null) throw new Error(`${source}: no recorded perm.${offset + i} for NCE layer ${l}`);
        ids[l] = Int32Array.from(await t.data());
      }
      return ids;
    };
    const realA = nchwToNhwc(tensors['input.real_A']);
    const realB = nchwToNhwc(tensors['input.real_B']);
    const choices = {
      patchIds: { A: await perms(0), B: options.nceIdt ? await perms(randomLayers.length) : undefined },
      queryIds: {
        A: await recordedSelection(tensors, 'nceA', nceLayers, qs, source),
        B: options.nceIdt ? await recordedSelection(tensors, 'nceB', nceLayers, qs, source) : undefined,
      },
    };
    const step = await model.trainStepAsync(
      realA,
      realB,
      {
        ...choices,
        flip: false,
        branches,
      },
      true,
    );
    tf.dispose([realA, realB]);
    rec = step.record!;
    await branches.collect();
    for (const [name, value] of Object.entries(step.losses)) {
      if (value === undefined) continue;
      dump.put(`loss.${name}`, [value], tensors[`loss.${name}`]?.shape ?? []);
      if (tensors[`loss.${name}`] != null) table.add('loss', compareValues([value], await data(tensors[`loss.${name}`])));
    }
    table.add('out.fake_B', compareValues(await nchwData(rec.fakeB), await data(tensors['out.fake_B'])));
    await dump.putTensor('out.fake_B', rec.fakeB, 'nchw');
    if (rec.idtB && tensors['out.idt_B']) {
      table.add('out.idt_B', compareValues(await nchwData(rec.idtB), await data(tensors['out.idt_B'])));
      await dump.putTensor('out.idt_B', rec.idtB, 'nchw');
    }
    await compareNcePass(table, dump, 'nceA', rec.nce.A, pick(tensors, 'nceA.'), truth, qs);
    if (rec.nce.B) await compareNcePass(table, dump, 'nceB', rec.nce.B, pick(tensors, 'nceB.'), truth, qs);
    const after = { G: model.netG.params.toTorch(), D: model.netD.params.toTorch(), F: model.netF.toTorch() };
    const exactlyZero = { G: new Set(biasesCancelledByNorm(model.netG.layers)), D: new Set(biasesCancelledByNorm(model.netD.layers)), F: new Set<string>() };
    for (const net of ['G', 'F', 'D'] as const) {
      await compareNetwork(table, net, rec.grads[net], after[net], tensors, truth, options.lr, exactlyZero[net]);
      for (const [name, g] of Object.entries(rec.grads[net])) await dump.putTensor(`grad.${net}.${name}`, g);
      for (const [name, w] of Object.entries(after[net])) await dump.putTensor(`after.${net}.${name}`, w);
    }
    tf.dispose([...Object.values(after.G), ...Object.values(after.D), ...Object.values(after.F)]);
  } finally {
    if (rec) disposeStepRecord(rec);
    model.dispose();
    branches.dispose();
  }
  return { rows: table.list(), excess: table.excess, outliers: table.outliers, nearKinks: branches.nearKinks(), dumped: dump.tensors };
}
