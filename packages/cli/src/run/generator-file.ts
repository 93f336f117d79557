import * as tf from '@tensorflow/tfjs-core';
import { detectWeightFormat, loadStateDict, readSafetensors, Rng } from '@qsattn/core';
import { GENERATOR_NAMES, generatorBlocks, ResnetGenerator, type GeneratorName, type ModelOptions } from '@qsattn/cut-model';
import { readInputFile } from '../fixture-file';
import { InputError } from '../io';
import { resolveModel } from '../options/run-options';
import { readRunCheckpoint } from './run-checkpoint';

/** A generator ready to translate, and where its weights and options came from. */
export interface LoadedGenerator {
  generator: ResnetGenerator;
  options: ModelOptions;
  /** `checkpoint` (ours, options from the file) or `weights` (official `.pth` or a safetensors state dict). */
  kind: 'checkpoint' | 'weights';
  /** Training steps of a checkpoint. */
  step?: number;
}

/**
 * What an official generator state dict says about its architecture: `model.1.weight` is the first conv
 * `[ngf, input_nc, 7, 7]`, the last conv gives output_nc, and the `conv_block` layers count the ResNet blocks.
 */
export function generatorShape(state: tf.NamedTensorMap): Partial<ModelOptions> {
  const first = state['model.1.weight'];
  if (first === undefined || first.shape.length !== 4) return {};
  const shape: Partial<ModelOptions> = { ngf: first.shape[0], inputNc: first.shape[1] };
  const layers = Object.keys(state)
    .map((name) => /^model\.(\d+)\.weight$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]));
  const last = state[`model.${Math.max(...layers)}.weight`];
  if (last?.shape.length === 4) shape.outputNc = last.shape[0];
  const blocks = new Set(Object.keys(state).flatMap((name) => /^model\.(\d+)\.conv_block\./.exec(name)?.[1] ?? [])).size;
  const netG = GENERATOR_NAMES.find((name) => generatorBlocks(name) === blocks);
  if (netG !== undefined) shape.netG = netG as GeneratorName;
  return shape;
}

/**
 * Loads a generator from one of our checkpoints (its options come with it), an official `*_net_G.pth`, or a
 * safetensors state dict of one. For the last two the architecture is `base` (a run's saved options), else what
 * the weights' shapes say (ngf, channels, blocks); `flags` override either. A file that does not fit is an
 * InputError naming it and the first tensor that differs.
 */
export async function loadGeneratorFile(path: string, flags: Partial<ModelOptions>, base?: ModelOptions): Promise<LoadedGenerator> {
  const bytes = readInputFile(path);
  const format = detectWeightFormat(bytes);
  if (format === undefined) throw new InputError(`${path} is neither a qsattn checkpoint, a PyTorch .pth nor safetensors`);
  let state: tf.NamedTensorMap;
  let options: ModelOptions;
  let kind: LoadedGenerator['kind'] = 'weights';
  let step: number | undefined;
  try {
    const ours = format === 'safetensors' && readSafetensors(bytes, path).metadata.qsattn !== undefined;
    if (ours) {
      const { info } = await readRunCheckpoint(path);
      const all = await loadStateDict(bytes, { name: path, format });
      state = {};
      for (const [name, t] of Object.entries(all)) {
        if (name.startsWith('G.')) state[name.slice(2)] = t;
        else t.dispose();
      }
      options = resolveModel(info.options, flags);
      kind = 'checkpoint';
      step = info.step;
    } else {
      state = await loadStateDict(bytes, { name: path, format });
      options = resolveModel(base ?? generatorShape(state), flags);
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError((err as Error).message.split('\n')[0]);
  }
  const o = options;
  const generator = new ResnetGenerator(
    { inputNc: o.inputNc, outputNc: o.outputNc, ngf: o.ngf, blocks: generatorBlocks(o.netG), antialias: o.antialias, antialiasUp: o.antialiasUp, init: o.init },
    new Rng(0),
  );
  try {
    generator.params.loadTorch(state, path);
  } catch (err) {
    generator.dispose();
    throw new InputError((err as Error).message.split('\n')[0]);
  } finally {
    tf.dispose(Object.values(state));
  }
  return { generator, options, kind, step };
}
