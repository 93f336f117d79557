import { describe, expect, test } from 'vitest';
import { parseOfficialArgs } from './official-args';
import { linearLrFactor, resolveModelOptions } from './options';

describe('official command line', () => {
  test('the fixtures\' flags', () => {
    const { model, run } = parseOfficialArgs([
      '--QS_mode', 'global', '--ngf', '8', '--ndf', '8', '--netF_nc', '64', '--num_patches', '64', '--batch_size', '1', '--crop_size', '64',
    ]);
    expect(model).toMatchObject({ qsMode: 'global', ngf: 8, ndf: 8, netFNc: 64, numPatches: 64, nceIdt: true, lambdaNCE: 1 });
    expect(run).toEqual({ batchSize: 1, cropSize: 64 });
  });

  test('--flag=value, kebab-case, store_true and str2bool flags', () => {
    const { model, run } = parseOfficialArgs([
      '--dataroot=datasets/horse2zebra', '--name=h2z', '--QS-mode=local', '--no_antialias', '--nce_idt', 'false',
      '--flip_equivariance', '--nce_layers', '0,4,8', '--gan_mode', 'nonsaturating', '--no_flip',
    ]);
    expect(model).toMatchObject({ qsMode: 'local', antialias: false, antialiasUp: true, nceIdt: false, flipEquivariance: true, nceLayers: [0, 4, 8], ganMode: 'nonsaturating' });
    expect(run).toMatchObject({ dataroot: 'datasets/horse2zebra', name: 'h2z', noFlip: true });
  });

  test('--CUT_mode FastCUT applies the preset, and explicit flags override it', () => {
    const { model } = parseOfficialArgs(['--CUT_mode', 'FastCUT', '--lambda_NCE', '5']);
    expect(model).toMatchObject({ qsMode: null, nceIdt: false, lambdaNCE: 5, flipEquivariance: true, nEpochs: 150, nEpochsDecay: 50 });
  });

  test('unknown flags and bad values name the option and the choices', () => {
    expect(() => parseOfficialArgs(['--QS_mode', 'fancy'])).toThrow('--QS_mode must be one of global, local, local_global, got "fancy"');
    expect(() => parseOfficialArgs(['--ngf', 'eight'])).toThrow('--ngf needs a number');
    expect(() => parseOfficialArgs(['--bogus', '1'])).toThrow(/unknown option --bogus: known options are .*--QS_mode/);
    expect(() => parseOfficialArgs(['--normG', 'batch'])).toThrow(/--normG must be one of instance/);
  });
});

test('linear LR policy: constant for n_epochs, then linear decay', () => {
  const o = resolveModelOptions({ nEpochs: 200, nEpochsDecay: 200, epochCount: 1 });
  expect(linearLrFactor(0, o)).toBe(1);
  expect(linearLrFactor(199, o)).toBe(1);
  expect(linearLrFactor(200, o)).toBeCloseTo(1 - 1 / 201, 12);
  expect(linearLrFactor(399, o)).toBeCloseTo(1 - 200 / 201, 12);
});

test('option checks name the option', () => {
  expect(() => resolveModelOptions({ ngf: 0 })).toThrow('ngf must be a positive integer, got 0');
  expect(() => resolveModelOptions({ netG: 'unet_256' as never })).toThrow(/unknown generator 'unet_256': choose one of resnet_9blocks/);
});
