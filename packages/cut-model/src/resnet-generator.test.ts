import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { loadStateDict, nhwcToNchw, Rng } from '@qsattn/core';
import { describe, expect, test } from 'vitest';
import { expectClose, TEST_BACKENDS, useBackend } from '../../core/src/testing/harness';
import { ResnetGenerator, resnetGeneratorLayers } from './resnet-generator';
import { loadFixture, TESTDATA } from './testing/fixtures';

describe('layer lists keep the official indices', () => {
  test('resnet_9blocks: NCE layers 0,4,8,12,16 and checkpoint names', async () => {
    await useBackend('cpu');
    const layers = resnetGeneratorLayers({ ngf: 8 });
    expect(layers).toHaveLength(32);
    expect([0, 4, 8, 12, 16, 21, 29, 30, 31].map((i) => layers[i].kind)).toEqual([
      'reflectionPad',
      'conv',
      'conv',
      'resnetBlock',
      'resnetBlock',
      'upsample',
      'reflectionPad',
      'conv',
      'tanh',
    ]);
    const g = new ResnetGenerator({ ngf: 8 });
    expect(g.params.names()).toContain('model.12.conv_block.5.weight');
    expect(g.params.torchShapes()['model.21.filt']).toEqual([32, 1, 4, 4]);
    g.dispose();
  });

  test('resnet_6blocks shifts the decoder: first Upsample at 18, final conv at 27', () => {
    const layers = resnetGeneratorLayers({ ngf: 8, blocks: 6 });
    expect(layers[18].kind).toBe('upsample');
    expect(layers[27].kind).toBe('conv');
  });

  test('no_antialias / no_antialias_up change the list', () => {
    const layers = resnetGeneratorLayers({ ngf: 8, antialias: false, antialiasUp: false });
    expect(layers[8].kind).toBe('instanceNorm');
    expect(layers).toHaveLength(28);
    expect(layers.filter((l) => l.kind === 'convTranspose')).toHaveLength(2);
  });
});

describe.each(TEST_BACKENDS)('generator on %s', (backend) => {
  test('the official checkpoint gives the official output', async () => {
    await useBackend(backend);
    const before = tf.memory().numTensors;
    const state = await loadStateDict(join(TESTDATA, 'fixtures/pth/qs_ngf8_net_G.pth'));
    const fixture = loadFixture('fixtures/pth/qs_ngf8_expected.safetensors');
    const g = new ResnetGenerator({ ngf: 8 }, new Rng(1));
    g.params.loadTorch(state, 'qs_ngf8_net_G.pth');
    const input = fixture.image('input.image');
    const out = tf.tidy(() => nhwcToNchw(g.translate(input)));
    expectClose(await out.data(), await fixture.tensors['output.fake'].data(), { rel: 1e-4, abs: 1e-5 });
    tf.dispose([out, input, ...Object.values(state)]);
    fixture.dispose();
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test('a checkpoint of another size is refused, naming the tensors', async () => {
    await useBackend(backend);
    const state = await loadStateDict(join(TESTDATA, 'fixtures/pth/qs_ngf8_net_G.pth'));
    const g = new ResnetGenerator({ ngf: 16 }, new Rng(1));
    expect(() => g.params.loadTorch(state, 'qs_ngf8_net_G.pth')).toThrow(
      /qs_ngf8_net_G\.pth: .*tensor 'model\.1\.weight' has shape \[8, 3, 7, 7\], expected \[16, 3, 7, 7\]/,
    );
    tf.dispose(Object.values(state));
    g.dispose();
  });
});

describe('what the official generator cannot see', () => {
  // Every tap of the first 7×7 conv reads the reflection-padded input, so a colour c added to the whole image adds
  // the same W·c to every position of each channel, and the instance norm after it subtracts that again: the
  // output cannot depend on the image's overall colour. (This is why a translation's background comes out in one
  // learned green whatever the input's: see the README's main-job section.)
  test('a constant colour added to the whole input leaves the output unchanged (official weights)', async () => {
    await useBackend('cpu');
    const state = await loadStateDict(join(TESTDATA, 'fixtures/pth/qs_ngf8_net_G.pth'));
    const fixture = loadFixture('fixtures/pth/qs_ngf8_expected.safetensors');
    const g = new ResnetGenerator({ ngf: 8 }, new Rng(1));
    g.params.loadTorch(state, 'qs_ngf8_net_G.pth');
    const input = fixture.image('input.image');
    const [plain, shifted, scaled] = tf.tidy(() => [
      g.translate(input),
      g.translate(tf.add(input, tf.tensor1d([0.3, -0.2, 0.25]))),
      g.translate(tf.mul(input, tf.tensor1d([1, 0.5, 1]))),
    ]);
    const maxDiff = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
    expect(maxDiff(plain, shifted)).toBeLessThan(1e-5);
    // A change of colour balance is seen (the three input channels pass through different filters).
    expect(maxDiff(plain, scaled)).toBeGreaterThan(1e-2);
    tf.dispose([plain, shifted, scaled, input, ...Object.values(state)]);
    fixture.dispose();
    g.dispose();
  });
});
