import * as tf from '@tensorflow/tfjs-core';
import { ensureBackend, requireBackend, Rng, synchronousReads, TorchAdam } from '@qsattn/core';
import { defaultQsLayers, lowestIds, nceLoss, ProjectionHead, queryEntropies, stopGradient, type NceLossResult, type PatchIdSource } from '@qsattn/qsattn';
import type { ActivationBranches, ActivationContext } from './activation-branches';
import { layerParams, normsReachedByChannelsLastGrad, officialTapLayers, type LayerSpec } from './layer-spec';

const layerParamsOf = (spec: LayerSpec): boolean => layerParams(spec, '').some((p) => p.trainable);
import { ganLoss } from './gan-loss';
import { namedGrads } from './named-grads';
import { generatorBlocks, linearLrFactor, type ModelOptions, resolveModelOptions } from './options';
import { PatchGan, type PatchGanOptions } from './patchgan';
import { ResnetGenerator, type ResnetGeneratorOptions } from './resnet-generator';

/** The losses of one step, as the official code names them. */
export interface StepLosses {
  D_fake: number;
  D_real: number;
  D: number;
  G_GAN: number;
  NCE: number;
  /** Present when `nceIdt`. */
  NCE_Y?: number;
  G: number;
}

/** QS-layer selections by NCE layer: one id list per image, or undefined for a layer that selects itself. */
export type QueryIds = readonly (readonly ArrayLike<number>[] | undefined)[];

/** Choices a step would otherwise draw itself: recorded ones make a step replay exactly. */
export interface StepChoices {
  /** Random-layer patch ids by NCE layer, for NCE(real_A, fake_B) and NCE(real_B, idt_B). */
  patchIds?: { A: PatchIdSource; B?: PatchIdSource };
  /** QS-layer selections by NCE layer (one id list per image), e.g. to replay the official `local` order. */
  queryIds?: { A?: QueryIds; B?: QueryIds };
  /** Flip the batch for flip-equivariance (FastCUT); drawn from the model's Rng if not given. */
  flip?: boolean;
  /**
   * Every ReLU / LeakyReLU of G, D and F runs through these (logging the units at their kink, taking the other
   * branch at chosen ones).
   */
  branches?: ActivationBranches;
}

/** Everything inside a step, kept for conformance checks (tensors owned by the caller: `disposeStepRecord`). */
export interface StepRecord {
  fakeB: tf.Tensor4D;
  idtB?: tf.Tensor4D;
  nce: { A: NceRecord; B?: NceRecord };
  /** Gradients by PyTorch name and in PyTorch layout, before the optimizers stepped. */
  grads: { G: tf.NamedTensorMap; F: tf.NamedTensorMap; D: tf.NamedTensorMap };
}

export interface NceRecord {
  featK: tf.Tensor4D[];
  featQ: tf.Tensor4D[];
  pooledK: tf.Tensor2D[];
  pooledQ: tf.Tensor2D[];
  rowLosses: tf.Tensor1D[];
  /** Per layer: the random ids, or the QS selection (per image) and its attention. */
  samples: ({ ids: Int32Array } | { ids: Int32Array[]; attn: tf.Tensor })[];
  /** Gradient of loss_G with respect to the source features along the NCE path alone. */
  gradFeatK: tf.Tensor4D[];
}

export interface CutModelInit {
  /** Seeds weight init and every random choice of training (patch ids, flips). Default 0. */
  seed?: number;
}

/**
 * Runs `fn` with the enclosing gradient tape set aside, as if no gradient were being taken. tfjs records the ops
 * of a nested `tf.grads` (and of an optimizer step) on the outer tape too, and keeps every tensor they save
 * until the outer backprop ends — for the D update inside G's tape, all of D's activations, gradients and
 * Adam temporaries. With the tape set aside, the nested call opens and closes its own.
 */
function offTape<T>(fn: () => T): T {
  const state = tf.engine().state;
  const { activeTape, gradientDepth } = state;
  state.activeTape = null as unknown as typeof activeTape;
  state.gradientDepth = 0;
  try {
    return fn();
  } finally {
    state.activeTape = activeTape;
    state.gradientDepth = gradientDepth;
  }
}

/** The label of the encoder pass on the source images (the official `netG(src, nce_layers, encode_only=True)`). */
const SOURCE_PASS = 'G(source)';

/** A copy that outlives the enclosing tidy scope (for step records). */
function keep<T extends tf.Tensor>(t: T): T {
  return tf.keep(t.clone()) as T;
}

function splitBatch(x: tf.Tensor4D, parts: number): tf.Tensor4D[] {
  return parts === 1 ? [x] : tf.split(x, parts, 0);
}

/** The generator a model's options describe. */
export function generatorOptions(o: ModelOptions): ResnetGeneratorOptions {
  return { inputNc: o.inputNc, outputNc: o.outputNc, ngf: o.ngf, blocks: generatorBlocks(o.netG), antialias: o.antialias, antialiasUp: o.antialiasUp, init: o.init };
}

/** The discriminator a model's options describe. */
export function discriminatorOptions(o: ModelOptions): PatchGanOptions {
  return { inputNc: o.outputNc, ndf: o.ndf, layers: o.netD === 'basic' ? 3 : o.nLayersD, antialias: o.antialias, init: o.init };
}

/**
 * The CUT / FastCUT / QS-Attn model: generator G, PatchGAN D, projection head F, their PyTorch-style Adam
 * optimizers, and the official training step (D update, then G and F against the updated D).
 */
export class CutModel {
  readonly options: ModelOptions;
  readonly netG: ResnetGenerator;
  readonly netD: PatchGan;
  netF: ProjectionHead;
  readonly rng: Rng;
  optimizers: { G: TorchAdam; D: TorchAdam; F: TorchAdam };
  private readonly adam: { lr: number; beta1: number; beta2: number };
  /** Steps taken. */
  step = 0;

  /** A model on the backend chosen so far, or on `auto`'s choice if none is running yet (`ensureBackend`). */
  static async create(options: Partial<ModelOptions> = {}, init: CutModelInit = {}): Promise<CutModel> {
    await ensureBackend();
    return new CutModel(options, init);
  }

  /** Needs a running backend (see `create`, or `await selectBackend()` first): its weights are tensors. */
  constructor(options: Partial<ModelOptions> = {}, { seed = 0 }: CutModelInit = {}) {
    requireBackend('new CutModel()');
    this.options = resolveModelOptions(options);
    const o = this.options;
    this.rng = new Rng(seed);
    this.netG = new ResnetGenerator(generatorOptions(o), this.rng);
    try {
      this.netD = new PatchGan(discriminatorOptions(o), this.rng);
    } catch (e) {
      this.netG.dispose();
      throw e;
    }
    try {
      this.netF = ProjectionHead.create({ channels: this.nceChannels(), nc: o.netFNc, init: o.init, rng: this.rng });
    } catch (e) {
      // Options that make no projection head (an NCE layer the generator lacks) must not leak G and D.
      this.netG.dispose();
      this.netD.dispose();
      throw e;
    }
    this.adam = { lr: o.lr, beta1: o.beta1, beta2: o.beta2 };
    this.optimizers = {
      G: new TorchAdam(this.netG.params.trainable(), this.adam),
      D: new TorchAdam(this.netD.params.trainable(), this.adam),
      F: new TorchAdam(new Map(Object.entries(this.netF.namedVariables())), this.adam),
    };
  }

  /**
   * Loads official weights by their PyTorch names (`netG`: `model.<i>.…`, `netD`: `model.<i>.…`, `netF`:
   * `mlp_<l>.<j>.…`), in PyTorch layout. Each network is checked whole before anything changes.
   */
  loadTorch(weights: { G?: tf.NamedTensorMap; D?: tf.NamedTensorMap; F?: tf.NamedTensorMap }, source: string): void {
    if (weights.G) this.netG.params.loadTorch(weights.G, `${source} (G)`);
    if (weights.D) this.netD.params.loadTorch(weights.D, `${source} (D)`);
    if (weights.F) {
      const head = ProjectionHead.fromTorch(weights.F);
      const want = this.nceChannels();
      if (head.channels.join() !== want.join() || head.nc !== this.options.netFNc) {
        head.dispose();
        throw new Error(
          `${source} (F): projection head takes channels [${head.channels.join(', ')}] → ${head.nc}, this model needs [${want.join(', ')}] → ${this.options.netFNc}`,
        );
      }
      this.netF.dispose();
      this.netF = head;
      this.optimizers.F.dispose();
      this.optimizers.F = new TorchAdam(new Map(Object.entries(head.namedVariables())), { ...this.adam, lr: this.optimizers.G.lr });
    }
  }

  /** Channels of the generator's output at each NCE layer (what the projection head's MLPs take). */
  private nceChannels(): number[] {
    const o = this.options;
    return tf.tidy(() => {
      const probe = tf.zeros([1, 16, 16, o.inputNc]) as tf.Tensor4D;
      return this.netG.run(probe, { taps: o.nceLayers, encodeOnly: true }).features.map((f) => f.shape[3]);
    });
  }

  /** The learning rate after `epochsDone` epochs under the linear policy; applied to all three optimizers. */
  setEpoch(epochsDone: number): number {
    const lr = this.options.lr * linearLrFactor(epochsDone, this.options);
    for (const opt of Object.values(this.optimizers)) opt.lr = lr;
    return lr;
  }

  /** Translates NHWC images in [−1, 1]. */
  translate(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.netG.translate(x));
  }

  private nce(
    featK: tf.Tensor4D[],
    featQ: tf.Tensor4D[],
    patchIds: PatchIdSource,
    queryIds?: QueryIds,
    branches?: { record: ActivationBranches; tag: string },
  ): NceLossResult {
    const o = this.options;
    return nceLoss(this.netF, featK, featQ, {
      hiddenActivation:
        branches && ((layer, pass, hidden) => branches.record.activate(`F(${branches.tag} ${pass}):mlp_${layer}.1.`, hidden, 0) as tf.Tensor2D),
      numPatches: o.numPatches,
      mode: o.qsMode ?? 'global',
      qsLayers: o.qsMode === null ? [] : undefined,
      patchIds,
      queryIds,
      temperature: o.nceT,
      lambda: o.lambdaNCE,
    });
  }

  /**
   * With `torchCpuCompat` at batch size 1: the generator's instance norms whose backward PyTorch 1.13 (CPU) gets
   * wrong in the official NCE encoder passes — those reached by the channels-last gradients of the taps read
   * through a permuted token view (every tap but the QS taps of `local` mode, which are read through `unfold`).
   */
  private buggyNorms(batch: number): Set<string> {
    const o = this.options;
    if (!o.torchCpuCompat || batch !== 1) return new Set();
    const qsLayers = o.qsMode === null ? [] : defaultQsLayers(o.nceLayers.length);
    const strided = o.nceLayers.filter((_, l) => !(o.qsMode === 'local' && qsLayers.includes(l)));
    return normsReachedByChannelsLastGrad(this.netG.layers, strided, Math.max(...o.nceLayers));
  }

  /**
   * One official training step on NHWC batches in [−1, 1]. With `record`, everything the conformance check
   * compares is returned as well. It reads back mid-step (the QS selection's entropies, the losses): on a GPU
   * backend use `trainStepAsync`, which reads nothing back until the step is queued.
   */
  trainStep(realA: tf.Tensor4D, realB: tf.Tensor4D, choices: StepChoices = {}, record = false): { losses: StepLosses; record?: StepRecord } {
    if (synchronousReads() === 'unsupported') {
      throw new Error(`trainStep reads values back synchronously, which the ${tf.getBackend()} backend cannot do here: use \`await model.trainStepAsync(…)\``);
    }
    const step = this.queueStep(realA, realB, choices, record);
    return { losses: readLosses(step.losses, (t) => t.dataSync()[0]), record: step.record };
  }

  /**
   * `trainStep` for every backend, GPU ones included: the step is queued without reading anything back (on
   * backends whose synchronous reads are not cheap, the QS layers' queries are selected first, from the same
   * encoder features, with an asynchronous read), and the losses are read once it is. Same values as `trainStep`.
   */
  async trainStepAsync(realA: tf.Tensor4D, realB: tf.Tensor4D, choices: StepChoices = {}, record = false): Promise<{ losses: StepLosses; record?: StepRecord }> {
    let given = choices;
    if (synchronousReads() !== 'cheap') {
      // The flip is drawn first, as `trainStep` draws it, so the Rng's sequence is the same.
      const flip = choices.flip ?? (this.options.flipEquivariance && this.rng.uniform() < 0.5);
      given = { ...choices, flip, queryIds: await this.selectQueries(realA, realB, choices.queryIds) };
    }
    const step = this.queueStep(realA, realB, given, record);
    const values = await Promise.all(Object.values(step.losses).map((t) => t.data()));
    const byTensor = new Map(Object.values(step.losses).map((t, i) => [t, values[i][0]]));
    return { losses: readLosses(step.losses, (t) => byTensor.get(t)!), record: step.record };
  }

  /**
   * The QS selection a step on these batches would make (per NCE layer, one id list per image; `undefined` at random
   * layers), for both NCE passes, read back asynchronously: from the encoder's features of the unflipped sources,
   * which are the features the step selects from. Given selections are kept.
   */
  async selectQueries(realA: tf.Tensor4D, realB: tf.Tensor4D, given: StepChoices['queryIds'] = {}): Promise<StepChoices['queryIds']> {
    const o = this.options;
    const qsLayers = o.qsMode === null ? [] : defaultQsLayers(o.nceLayers.length);
    const parts = o.nceIdt ? (['A', 'B'] as const) : (['A'] as const);
    if (qsLayers.length === 0 || parts.every((p) => given[p] != null)) return given;
    const batch = realA.shape[0];
    const entropies = tf.tidy(() => {
      const sources = o.nceIdt ? tf.concat([realA, realB], 0) : realA;
      const features = this.netG.run(sources, { taps: o.nceLayers, encodeOnly: true }).features;
      return qsLayers.map((l) => queryEntropies(features[l], { mode: o.qsMode ?? 'global' }));
    });
    const values = await Promise.all(entropies.map((e) => e.data()));
    tf.dispose(entropies);
    const selected = (part: number): QueryIds =>
      o.nceLayers.map((_, l) => {
        const at = qsLayers.indexOf(l);
        if (at < 0) return undefined;
        const count = entropies[at].shape[1];
        const n = Math.min(o.numPatches, count);
        return Array.from({ length: batch }, (_, b) => {
          const image = part * batch + b;
          return lowestIds((values[at] as Float32Array).subarray(image * count, (image + 1) * count), n);
        });
      });
    return { A: given.A ?? selected(0), B: o.nceIdt ? (given.B ?? selected(1)) : given.B };
  }

  /** The step itself, its losses left on the backend as scalars (owned by the caller: `readLosses` frees them). */
  private queueStep(realA: tf.Tensor4D, realB: tf.Tensor4D, choices: StepChoices, record: boolean): { losses: LossTensors; record?: StepRecord } {
    const o = this.options;
    const batch = realA.shape[0];
    const flip = choices.flip ?? (o.flipEquivariance && this.rng.uniform() < 0.5);
    const patchIdsA = choices.patchIds?.A ?? this.rng;
    const patchIdsB = choices.patchIds?.B ?? this.rng;
    const { branches } = choices;
    const at = (pass: string): ActivationContext | undefined => branches && { branches, pass };
    const losses: LossTensors = {};
    let rec: StepRecord | undefined;
    let recordedD: tf.NamedTensorMap = {};
    const buggyNorms = this.buggyNorms(batch);
    const ownSourcePass = flip || buggyNorms.size > 0;

    const gParams = new Map([...this.netG.params.trainable(), ...Object.entries(this.netF.namedVariables()).map(([k, v]) => [`F.${k}`, v] as const)]);
    const { value: lossG, grads } = namedGrads(() => {
      const unflippedReal = o.nceIdt ? tf.concat([realA, realB], 0) : realA;
      const real = flip ? tf.reverse(unflippedReal, 2) : unflippedReal;
      const run = this.netG.run(real, { taps: o.nceLayers, activation: at('G(real)') });
      const [fakeB, idtB] = splitBatch(run.output!, o.nceIdt ? 2 : 1);

      // D update first, on a detached fake_B, so that G's GAN loss sees the updated D (as the official step).
      // It reaches no G parameter, so it runs off G's tape.
      const detachedFake = stopGradient(fakeB);
      offTape(() => {
        const d = namedGrads(() => {
          const fake = ganLoss(this.netD.apply(detachedFake, at('D(fake_B), D step')), false, o.ganMode);
          const realLoss = ganLoss(this.netD.apply(realB, at('D(real_B), D step')), true, o.ganMode);
          losses.D_fake = keep(fake);
          losses.D_real = keep(realLoss);
          return tf.mul(tf.add(fake, realLoss), 0.5) as tf.Scalar;
        }, this.netD.params.trainable());
        losses.D = keep(d.value);
        // Created inside the G tape's scope, D's gradients are freed when it closes: keep a copy when recording.
        if (record) {
          recordedD = Object.fromEntries(Object.entries(d.grads).map(([n, g]) => [n, tf.keep(this.netD.params.toTorchLayout(n, g))]));
        }
        this.optimizers.D.apply(d.grads);
        tf.dispose([d.value, ...Object.values(d.grads)]);
      });

      const lossGan = tf.mul(ganLoss(this.netD.apply(fakeB, at('D(fake_B), G step')), true, o.ganMode), o.lambdaGAN) as tf.Scalar;
      losses.G_GAN = keep(lossGan);
      // Source features: G(real) already computed them (same weights, and instance norm is per image), unless
      // the batch was flipped (the official code encodes the unflipped sources and flips the translations'
      // features back) or the official encoder passes' own gradients are to be reproduced.
      const featK = ownSourcePass
        ? this.netG.run(unflippedReal, { taps: o.nceLayers, encodeOnly: true, buggyNorms, activation: at(SOURCE_PASS) }).features
        : run.features;
      const featKParts = featK.map((f) => splitBatch(f, o.nceIdt ? 2 : 1));
      const translated = o.nceIdt ? tf.concat([fakeB, idtB], 0) : fakeB;
      const featQRaw = this.netG.run(translated, { taps: o.nceLayers, encodeOnly: true, buggyNorms, activation: at('G(translated)') }).features;
      const featQParts = featQRaw.map((f) => splitBatch(flip ? tf.reverse(f, 2) : f, o.nceIdt ? 2 : 1));

      const nceA = this.nce(featKParts.map((p) => p[0]), featQParts.map((p) => p[0]), patchIdsA, choices.queryIds?.A, branches && { record: branches, tag: 'A' });
      losses.NCE = keep(nceA.loss);
      let nceTotal: tf.Scalar = nceA.loss;
      let nceB: NceLossResult | undefined;
      if (o.nceIdt) {
        nceB = this.nce(featKParts.map((p) => p[1]), featQParts.map((p) => p[1]), patchIdsB, choices.queryIds?.B, branches && { record: branches, tag: 'B' });
        losses.NCE_Y = keep(nceB.loss);
        nceTotal = tf.mul(tf.add(nceA.loss, nceB.loss), 0.5) as tf.Scalar;
      }
      if (record) {
        rec = {
          fakeB: keep(fakeB),
          idtB: idtB ? keep(idtB) : undefined,
          nce: { A: this.recordNce(nceA, featKParts, featQParts, 0), B: nceB && this.recordNce(nceB, featKParts, featQParts, 1) },
          grads: { G: {}, F: {}, D: {} },
        };
      }
      return tf.add(lossGan, nceTotal) as tf.Scalar;
    }, gParams);
    losses.G = lossG;

    const gGrads: tf.NamedTensorMap = {};
    const fGrads: tf.NamedTensorMap = {};
    for (const [name, g] of Object.entries(grads)) {
      if (name.startsWith('F.')) fGrads[name.slice(2)] = g;
      else gGrads[name] = g;
    }
    if (rec) {
      rec.grads.G = tf.tidy(() => Object.fromEntries(Object.entries(gGrads).map(([n, g]) => [n, this.netG.params.toTorchLayout(n, g)])));
      rec.grads.F = tf.tidy(() => Object.fromEntries(Object.entries(fGrads).map(([n, g]) => [n, ProjectionHead.convertLayout(n, g)])));
      rec.grads.D = recordedD;
      this.recordFeatureGrads(rec, batch, branches && { branches, pass: ownSourcePass ? SOURCE_PASS : 'G(real)' });
    }
    this.optimizers.G.apply(gGrads);
    this.optimizers.F.apply(fGrads);
    tf.dispose(Object.values(grads));
    this.step++;
    return { losses, record: rec };
  }

  private recordNce(result: NceLossResult, featK: tf.Tensor4D[][], featQ: tf.Tensor4D[][], part: number): NceRecord {
    return {
      featK: featK.map((p) => keep(p[part])),
      featQ: featQ.map((p) => keep(p[part])),
      pooledK: result.keys.pooled.map(keep),
      pooledQ: result.queries.map(keep),
      rowLosses: result.rowLosses.map(keep),
      samples: result.keys.samples.map((s) => (s.kind === 'random' ? { ids: s.ids } : { ids: s.ids, attn: keep(s.attn) })),
      gradFeatK: [],
    };
  }

  /**
   * d loss_G / d feat_k along the NCE path alone, as the official code's separate encoder pass receives it:
   * each tap's own term, plus what deeper taps send back through the generator layers between them.
   */
  private recordFeatureGrads(rec: StepRecord, batch: number, source?: ActivationContext): void {
    const o = this.options;
    const buggyNorms = this.buggyNorms(batch);
    const passes = [rec.nce.A, rec.nce.B].filter((p): p is NceRecord => p != null);
    const weight = passes.length === 2 ? 0.5 : 1;
    for (const [part, r] of passes.entries()) {
      // The layers between taps are run again on part of the source pass's batch: the same units, the same branches.
      const activation: ActivationContext | undefined = source && { ...source, part };
      const branches = source?.branches;
      const randomIds = r.samples.map((s) => (s.ids instanceof Int32Array ? s.ids : undefined));
      const queryIds = r.samples.map((s) => (s.ids instanceof Int32Array ? undefined : s.ids));
      // Random taps' keys are detached, so some taps have no gradient at all (allowNoGradients → zeros).
      const { value, grads } = tf.engine().gradients(
        () => tf.mul(this.nce(r.featK, r.featQ, randomIds, queryIds, branches && { record: branches, tag: part === 0 ? 'A' : 'B' }).loss, weight) as tf.Scalar,
        r.featK,
        undefined,
        true,
      );
      value.dispose();
      const direct = grads.map((g, l) => (g ?? tf.zerosLike(r.featK[l])) as tf.Tensor4D);
      const taps = officialTapLayers(this.netG.layers, o.nceLayers);
      const total: tf.Tensor4D[] = new Array(taps.length);
      total[taps.length - 1] = direct[taps.length - 1];
      for (let l = taps.length - 2; l >= 0; l--) {
        const through = tf.grad((f: tf.Tensor) => this.netG.runRange(f as tf.Tensor4D, taps[l] + 1, taps[l + 1], buggyNorms, activation))(
          r.featK[l],
          total[l + 1],
        );
        total[l] = tf.add(direct[l], through) as tf.Tensor4D;
        tf.dispose([direct[l], through]);
      }
      // PyTorch tracks no gradient for a tap computed from the input alone (tap 0, the padded image): the
      // official recording holds zeros there.
      taps.forEach((tap, l) => {
        if (!this.netG.layers.slice(0, tap + 1).some((spec) => layerParamsOf(spec))) {
          const zeros = tf.zerosLike(total[l]);
          total[l].dispose();
          total[l] = zeros;
        }
      });
      r.gradFeatK = total;
    }
  }

  dispose(): void {
    this.netG.dispose();
    this.netD.dispose();
    this.netF.dispose();
    for (const opt of Object.values(this.optimizers)) opt.dispose();
  }
}

/** The losses of a queued step, as scalars on the backend. */
type LossTensors = Partial<Record<keyof StepLosses, tf.Scalar>>;

/** Reads the losses of a queued step and frees their tensors. */
function readLosses(tensors: LossTensors, read: (t: tf.Scalar) => number): StepLosses {
  const losses = Object.fromEntries(Object.entries(tensors).map(([name, t]) => [name, read(t)])) as unknown as StepLosses;
  tf.dispose(Object.values(tensors));
  return losses;
}

/** Frees every tensor of a step record. */
export function disposeStepRecord(rec: StepRecord): void {
  const passes = [rec.nce.A, rec.nce.B].filter((p): p is NceRecord => p != null);
  tf.dispose([
    rec.fakeB,
    ...(rec.idtB ? [rec.idtB] : []),
    ...passes.flatMap((p) => [...p.featK, ...p.featQ, ...p.pooledK, ...p.pooledQ, ...p.rowLosses, ...p.gradFeatK, ...p.samples.flatMap((s) => ('attn' in s ? [s.attn] : []))]),
    ...Object.values(rec.grads.G),
    ...Object.values(rec.grads.F),
    ...Object.values(rec.grads.D),
  ]);
}
