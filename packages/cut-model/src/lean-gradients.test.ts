import * as tf from '@tensorflow/tfjs-core';
import { conv2d, instanceNorm, reflectionPad, takingGradient } from '@qsattn/core';
import { describe, expect, test } from 'vitest';
import { TEST_BACKENDS, testValues, useBackend } from '../../core/src/testing/harness';
import { leanGradients, leanVariableGrads } from './lean-gradients';
import { namedGrads } from './named-grads';

function param(shape: number[], seed: number, name: string, trainable = true): tf.Variable {
  const t = tf.tensor(Float32Array.from(testValues(shape.reduce((a, b) => a * b, 1), seed), (v) => v * 0.5), shape);
  const v = tf.variable(t, trainable, `${name}_${seed}_${Math.random()}`);
  t.dispose();
  return v;
}

/** A small net over custom-gradient ops, a shared (twice consumed) tensor, a multi-output op and a nested grad. */
function makeNet() {
  const w1 = param([3, 3, 2, 4], 1, 'w1');
  const b1 = param([4], 2, 'b1');
  const w2 = param([3, 3, 6, 3], 3, 'w2');
  const unused = param([5], 4, 'unused');
  const frozen = param([3], 5, 'frozen', false);
  const x = tf.tensor4d(Float32Array.from(testValues(1 * 6 * 7 * 2, 9)), [1, 6, 7, 2]);
  const loss = (nested: boolean): tf.Scalar => {
    const h0 = conv2d(reflectionPad(x, 1), w1 as tf.Tensor4D, b1 as tf.Tensor1D);
    const h = tf.relu(instanceNorm(h0));
    const [p, q] = tf.split(h, 2, 3); // multi-output node
    const hh = tf.concat([tf.mul(p, q), tf.mul(h, 0.5)], 3); // h consumed twice
    const o = conv2d(reflectionPad(hh as tf.Tensor4D, [1, 2, 0, 1]), w2 as tf.Tensor4D, null, { stride: 2 });
    let l = tf.add(tf.mean(tf.square(o)), tf.mul(tf.sum(frozen), 0.1));
    if (nested) {
      // A gradient computed inside f (its ops are recorded on the enclosing tape, as tfjs does).
      const g = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(tf.sin(z), tf.sum(w2))))(tf.reshape(tf.slice(h0, [0, 0, 0, 0], [1, 2, 2, 4]), [16]));
      l = tf.add(l, tf.mul(tf.sum(tf.square(g)), 0.01));
    }
    return l as tf.Scalar;
  };
  return { params: [w1, b1, w2, unused, frozen], x, loss };
}

describe.each(TEST_BACKENDS)('leanGradients on %s', (backend) => {
  test.each([false, true])('matches tf.variableGrads exactly (nested grad: %s), no leaks', async (nested) => {
    await useBackend(backend);
    const net = makeNet();
    const before = tf.memory().numTensors;
    const ref = tf.variableGrads(() => net.loss(nested), net.params);
    const afterRef = tf.memory().numTensors;
    const lean = leanVariableGrads(() => net.loss(nested), net.params);
    // Same number of tensors alive afterwards (value + gradients), so nothing leaked on either side.
    expect(tf.memory().numTensors - afterRef).toBe(afterRef - before);
    expect(Object.keys(lean.grads).sort()).toEqual(Object.keys(ref.grads).sort());
    expect(lean.value.dataSync()).toEqual(ref.value.dataSync());
    for (const [name, g] of Object.entries(ref.grads)) {
      if (g == null) expect(lean.grads[name]).toBeNull();
      else expect(lean.grads[name]!.dataSync(), name).toEqual(g.dataSync());
    }
    tf.dispose([ref.value, lean.value, ...Object.values(ref.grads).filter((g) => g != null), ...Object.values(lean.grads).filter((g) => g != null)] as tf.Tensor[]);
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.engine().state.activeTape).toBeNull();
    tf.dispose([...net.params, net.x]);
  });

  test("core's takingGradient sees both halves (it keeps wasm's F(4,3) convs out of training)", async () => {
    await useBackend(backend);
    const seen: boolean[] = [];
    const probe = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const x = args[0] as tf.Tensor;
      seen.push(takingGradient());
      return { value: x.clone(), gradFunc: (dy: tf.Tensor) => (seen.push(takingGradient()), dy.clone()) };
    }) as (x: tf.Tensor) => tf.Tensor;
    const x = tf.variable(tf.ones([3]));
    const r = leanGradients(() => tf.sum(probe(x)) as tf.Scalar, [x]);
    expect(seen).toEqual([true, true]);
    expect(takingGradient()).toBe(false);
    tf.dispose([r.value, ...(r.grads as tf.Tensor[]), x]);
  });

  test('a depth-0 gradient call inside f (offTape) and gradients w.r.t. an intermediate tensor', async () => {
    await useBackend(backend);
    const net = makeNet();
    const before = tf.memory().numTensors;
    const run = (gradients: typeof leanGradients) =>
      gradients(() => {
        const inner = tf.tidy(() => {
          const state = tf.engine().state;
          const { activeTape, gradientDepth } = state;
          state.activeTape = null as unknown as typeof activeTape;
          state.gradientDepth = 0;
          try {
            const r = gradients(() => net.loss(false), [net.params[0]]);
            r.value.dispose();
            return r.grads[0]!;
          } finally {
            state.activeTape = activeTape;
            state.gradientDepth = gradientDepth;
          }
        });
        const l = tf.add(net.loss(false), tf.sum(tf.mul(inner, net.params[0])));
        inner.dispose();
        return l as tf.Scalar;
      }, [net.params[0], net.params[2]]);
    const engineGradients = ((f: () => tf.Tensor, xs: tf.Tensor[]) =>
      (tf.engine() as unknown as { gradients: typeof leanGradients }).gradients(f, xs)) as typeof leanGradients;
    const ref = run(engineGradients);
    const lean = run(leanGradients);
    for (let i = 0; i < 2; i++) expect(lean.grads[i]!.dataSync()).toEqual(ref.grads[i]!.dataSync());
    tf.dispose([ref.value, lean.value, ...ref.grads, ...lean.grads] as tf.Tensor[]);
    expect(tf.memory().numTensors).toBe(before);

    // Inside an enclosing gradient computation (shared tape), with xs one of which is produced on that tape: its
    // gradient must survive the walk past the node that produced it.
    const a = net.params[1];
    const outer = (gradients: typeof leanGradients) =>
      tf.tidy(() =>
        tf.grad((z: tf.Tensor) => {
          const b = tf.mul(z, 2);
          const r = gradients(() => tf.sum(tf.mul(tf.sin(b), tf.add(b, z))) as tf.Scalar, [z, b]);
          return tf.add(tf.sum(tf.mul(r.grads[0]!, r.grads[1]!)), r.value);
        })(a),
      );
    const y = outer(leanGradients);
    const yRef = outer(engineGradients);
    expect(y.dataSync()).toEqual(yRef.dataSync());
    tf.dispose([y, yRef]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...net.params, net.x]);
  });

  test('namedGrads: zeros for parameters that get no gradient and for non-trainable ones', async () => {
    await useBackend(backend);
    const net = makeNet();
    const params = new Map(net.params.map((p, i) => [`p${i}`, p]));
    const before = tf.memory().numTensors;
    const { value, grads } = namedGrads(() => net.loss(false), params);
    expect(Object.keys(grads).sort()).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
    expect(grads.p3.dataSync()).toEqual(new Float32Array(5));
    expect(grads.p4.dataSync()).toEqual(new Float32Array(3));
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...net.params, net.x]);
  });
});
