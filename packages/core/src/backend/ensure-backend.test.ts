// Run in a fresh module graph (each test file is isolated): no backend has been chosen when it starts.
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { loadStateDict } from '../io/state-dict';
import { activeBackend, automaticBackendChoice, ensureBackend, requireBackend } from './ensure-backend';

const PTH = join(__dirname, '../../../../testdata/fixtures/pth/qs_ngf8_net_G.pth');

describe('a backend on first use', () => {
  test('before any choice, a synchronous entry point fails with one line naming the fix', () => {
    expect(activeBackend()).toBeUndefined();
    expect(() => requireBackend('new CutModel()')).toThrow(
      /^new CutModel\(\) needs a TensorFlow\.js backend and none is running yet: first `await ensureBackend\(\)` \(or `await selectBackend\(name\)`\) from @qsattn\/core$/,
    );
    expect(automaticBackendChoice()).toBeUndefined();
  });

  test('loadStateDict first thing in a script: auto chooses once, quietly', async () => {
    const state = await loadStateDict(PTH);
    expect(Object.keys(state).length).toBeGreaterThan(10);
    tf.dispose(Object.values(state));
    const choice = automaticBackendChoice();
    expect(choice?.requested).toBe('auto');
    expect(activeBackend()).toBe(choice?.name);
    expect(requireBackend('x')).toBe(choice?.name);
    await ensureBackend();
    expect(automaticBackendChoice()).toBe(choice); // not chosen again
  });

  test('a backend the user set is the one used', async () => {
    await import('@tensorflow/tfjs-backend-cpu');
    await tf.setBackend('cpu');
    expect(await ensureBackend()).toBe('cpu');
    expect(requireBackend('x')).toBe('cpu');
  });
});
