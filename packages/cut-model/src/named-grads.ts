import * as tf from '@tensorflow/tfjs-core';
import { leanVariableGrads } from './lean-gradients';

/**
 * `tf.variableGrads` keyed by our parameter names (tfjs keys them by its internal variable names). Variables
 * that do not reach the loss get a zero gradient, as PyTorch's `zero_grad` leaves them. The backward pass is
 * `leanGradients`' (same values, each intermediate gradient and saved tensor freed as soon as it is used up).
 */
export function namedGrads(
  f: () => tf.Scalar,
  params: ReadonlyMap<string, tf.Variable>,
): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const byVariable = new Map([...params].map(([name, v]) => [v.name, name]));
  const { value, grads } = leanVariableGrads(f, [...params.values()]);
  const named: tf.NamedTensorMap = {};
  for (const [variableName, g] of Object.entries(grads)) if (g != null) named[byVariable.get(variableName)!] = g;
  for (const [name, v] of params) named[name] ??= tf.zerosLike(v);
  return { value, grads: named };
}
