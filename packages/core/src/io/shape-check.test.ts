import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { useBackend } from '../testing/harness';
import { WeightFileError } from './errors';
import { checkStateDictShapes } from './shape-check';

describe('checkStateDictShapes', () => {
  beforeAll(() => useBackend('cpu'));

  test('passes when names and shapes match, for tfjs and raw tensors alike', () => {
    const tensors = { 'model.1.weight': tf.zeros([8, 3, 7, 7]), 'model.1.bias': tf.zeros([8]) };
    expect(() =>
      checkStateDictShapes(tensors, { 'model.1.weight': [8, 3, 7, 7], 'model.1.bias': [8] }, 'g.pth'),
    ).not.toThrow();
    const raw = { scalar: { shape: [] } };
    expect(() => checkStateDictShapes(raw, { scalar: [] }, 'g.pth')).not.toThrow();
    tf.dispose(tensors);
  });

  test('lists every missing, unexpected and wrong-shaped tensor in one error', () => {
    const stateDict = {
      'model.1.weight': { shape: [8, 3, 7, 7] },
      'model.4.weight': { shape: [16, 8, 3, 3] },
      extra: { shape: [2] },
      constructor: { shape: [1] },
    };
    const expected = {
      'model.1.weight': [8, 3, 7, 7],
      'model.4.weight': [16, 8, 3, 4],
      'model.4.bias': [16],
      'model.1.bias': [8, 1],
    };
    let error: unknown;
    try {
      checkStateDictShapes(stateDict, expected, 'qs_net_G.pth');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WeightFileError);
    expect((error as WeightFileError).message).toBe(
      [
        'qs_net_G.pth: 5 tensors do not match the expected shapes:',
        "  qs_net_G.pth: tensor 'model.4.weight' has shape [16, 8, 3, 3], expected [16, 8, 3, 4]",
        "  qs_net_G.pth: tensor 'model.4.bias' is missing (expected shape [16])",
        "  qs_net_G.pth: tensor 'model.1.bias' is missing (expected shape [8, 1])",
        "  qs_net_G.pth: tensor 'extra' (shape [2]) is not expected by the model",
        "  qs_net_G.pth: tensor 'constructor' (shape [1]) is not expected by the model",
      ].join('\n'),
    );
  });

  test('a rank difference counts as a wrong shape', () => {
    expect(() => checkStateDictShapes({ b: { shape: [8] } }, { b: [8, 1] }, 'x.safetensors')).toThrowError(
      "x.safetensors: 1 tensor does not match the expected shapes:\n  x.safetensors: tensor 'b' has shape [8], expected [8, 1]",
    );
  });
});
