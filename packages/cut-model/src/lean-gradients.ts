import * as tf from '@tensorflow/tfjs-core';

/**
 * A memory-lean `ENGINE.gradients` (tfjs-core 4.22, engine.js `gradients` + tape.js `getFilteredNodesXToY` /
 * `backpropagateGradients`), giving the same values by the same operations in the same order.
 *
 * tfjs keeps every intermediate gradient, every tensor a gradient function allocates eagerly (custom-gradient ops
 * compute their input gradients when called) and every node's saved forward tensors alive until the whole backward
 * pass ends. Here, walking the tape backwards:
 * - each node's gradient function runs in its own scope, whose leftovers are freed with it;
 * - a tensor's accumulated gradient is complete when the node that produced it is reached (its consumers all come
 *   later on the tape), so it is freed as soon as that node's gradient function has run (unless it is one of `xs`);
 * - at gradient depth 0 (no enclosing gradient computation, where tfjs frees every node's saved tensors at the end),
 *   a node's saved tensors are freed right after its gradient function ran, and those of nodes off the x → y path
 *   before the walk starts.
 */

/** The shape of tfjs-core's (unexported) tape nodes. */
interface TapeNode {
  id: number;
  kernelName: string;
  outputs: tf.Tensor[];
  inputs: Record<string, tf.Tensor>;
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

interface EngineInternals {
  state: {
    activeTape: TapeNode[] | null;
    gradientDepth: number;
    activeScope: { track: tf.Tensor[]; id: number } | null;
  };
  startTape(): void;
  endTape(): void;
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  tidy<T extends tf.TensorContainer>(name: string, fn: () => T): T;
}

const engine = (): EngineInternals => tf.engine() as unknown as EngineInternals;

/** tape.js `getFilteredNodesXToY`, verbatim in effect (it is not exported from tfjs-core's Node bundle). */
export function filteredNodesXToY(tape: readonly TapeNode[], xs: readonly tf.Tensor[], y: tf.Tensor): TapeNode[] {
  // Forward: the nodes and tensors that are a function of some x.
  const tensorsFromX = new Set<number>(xs.map((x) => x.id));
  const nodesFromX = new Set<number>();
  for (const node of tape) {
    for (const inputName in node.inputs) {
      if (tensorsFromX.has(node.inputs[inputName].id)) {
        for (const output of node.outputs) tensorsFromX.add(output.id);
        nodesFromX.add(node.id);
        break;
      }
    }
  }
  // Backward: the nodes and tensors that lead to y.
  const tensorsLeadToY = new Set<number>([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (node.outputs.some((o) => tensorsLeadToY.has(o.id))) {
      for (const inputName in node.inputs) {
        tensorsLeadToY.add(node.inputs[inputName].id);
        nodesToY.add(node.id);
      }
    }
  }
  const filtered: TapeNode[] = [];
  for (const node of tape) {
    if (!nodesFromX.has(node.id) || !nodesToY.has(node.id)) continue;
    const prunedInputs: Record<string, tf.Tensor> = {};
    for (const inputName in node.inputs) {
      const input = node.inputs[inputName];
      if (tensorsFromX.has(input.id)) prunedInputs[inputName] = input;
    }
    filtered.push({ ...node, inputs: prunedInputs, outputs: node.outputs });
  }
  return filtered;
}

function disposeSaved(node: TapeNode, live: Set<tf.Tensor>): void {
  for (const t of node.saved ?? []) if (!live.has(t)) t.dispose();
}

/**
 * `tf.engine().gradients(f, xs, undefined, allowNoGradients)` with the memory behaviour described above: returns
 * `f()` and the gradient of it with respect to each of `xs` (undefined where `f` does not depend on it).
 */
export function leanGradients<T extends tf.Tensor>(
  f: () => T,
  xs: tf.Tensor[],
  allowNoGradients = false,
): { value: T; grads: (tf.Tensor | undefined)[] } {
  if (xs.length === 0) throw new Error('gradients() received an empty list of xs.');
  const e = engine();
  const y = e.scopedRun(
    () => e.startTape(),
    () => e.endTape(),
    () => e.tidy('forward', f),
  );
  if (!(y instanceof tf.Tensor)) throw new Error('The result y returned by f() must be a tensor.');
  const tape = e.state.activeTape!;
  const filtered = filteredNodesXToY(tape, xs, y);
  if (!allowNoGradients && filtered.length === 0) {
    throw new Error(
      'Cannot compute gradient of y=f(x) with respect to x. Make sure that the f you passed encloses all ' +
        'operations that lead from x to y.',
    );
  }
  // As tfjs: at depth 0 the tape is ours alone and its saved tensors are freed with it; inside another gradient
  // computation the tape (and what it saved) belongs to that one, and our backward ops are recorded on it.
  const ownsTape = e.state.gradientDepth === 0;
  const keepIds = new Set(xs.map((x) => x.id));

  const grads = e.tidy('backward', () => {
    // Tensor id → accumulated gradient. Every value is a distinct tensor created in this scope (so freeing one frees
    // nothing anyone else holds; tensors share data only through the backend's reference counts).
    const acc = new Map<number, tf.Tensor>();
    const live = (): Set<tf.Tensor> => new Set(acc.values());
    acc.set(y.id, tf.ones(y.shape));
    try {
      if (ownsTape) {
        const onPath = new Set(filtered.map((n) => n.id));
        for (const node of tape) if (!onPath.has(node.id)) disposeSaved(node, new Set());
      }
      for (let i = filtered.length - 1; i >= 0; i--) {
        const node = filtered[i];
        const dys = node.outputs.map((o) => acc.get(o.id) ?? null);
        if (node.gradient == null) {
          throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
        }
        const gradient = node.gradient;
        const inputNames = Object.keys(node.inputs);
        const dxs = e.tidy('node-backward', () => {
          const scope = e.state.activeScope!;
          const inputGradients = gradient(dys);
          const out: tf.Tensor[] = [];
          for (const inputName of inputNames) {
            if (!(inputName in inputGradients)) {
              throw new Error(
                `Cannot backprop through input ${inputName}. Available gradients found: ${Object.keys(inputGradients)}.`,
              );
            }
            let dx = e.tidy('grad', () => inputGradients[inputName]());
            if (dx.dtype !== 'float32') {
              throw new Error(
                `Error in gradient for op ${node.kernelName}. The gradient of input ${inputName} must have ` +
                  `'float32' dtype, but has '${dx.dtype}'`,
              );
            }
            const x = node.inputs[inputName];
            if (!tf.util.arraysEqual(dx.shape, x.shape)) {
              throw new Error(
                `Error in gradient for op ${node.kernelName}. The gradient of input '${inputName}' has shape ` +
                  `'${dx.shape}', which does not match the shape of the input '${x.shape}'`,
              );
            }
            // A gradient function may hand back a tensor it did not create (dy itself, a saved tensor): own a
            // fresh handle on the same data instead.
            if (!scope.track.includes(dx) || out.includes(dx)) dx = tf.reshape(dx, dx.shape);
            out.push(dx);
          }
          return out;
        });
        for (let k = 0; k < inputNames.length; k++) {
          const x = node.inputs[inputNames[k]];
          const dx = dxs[k];
          const cur = acc.get(x.id);
          if (cur == null) acc.set(x.id, dx);
          else {
            acc.set(x.id, tf.add(cur, dx));
            cur.dispose();
            dx.dispose();
          }
        }
        // This node produced its outputs: their gradients are complete and now consumed.
        for (const o of node.outputs) {
          if (keepIds.has(o.id)) continue;
          acc.get(o.id)?.dispose();
          acc.delete(o.id);
        }
        if (ownsTape) disposeSaved(node, live());
      }
      return xs.map((x) => acc.get(x.id));
    } finally {
      if (ownsTape) {
        const held = live();
        for (const node of tape) disposeSaved(node, held);
        e.state.activeTape = null;
      }
    }
  });
  return { value: y as T, grads };
}

/**
 * `tf.variableGrads(f, varList)` on `leanGradients`: gradients keyed by variable name, trainable variables only
 * (non-trainable ones listed with `null`), an error where no variable reaches the loss or the loss is not a scalar.
 */
export function leanVariableGrads(
  f: () => tf.Scalar,
  varList: tf.Variable[],
): { value: tf.Scalar; grads: Record<string, tf.Tensor | null> } {
  const nonTrainable = varList.filter((v) => !v.trainable);
  const trainable = varList.filter((v) => v.trainable);
  if (trainable.length === 0) {
    throw new Error(
      `variableGrads() expects at least one of the input variables to be trainable, but none of the ` +
        `${varList.length} variables is trainable.`,
    );
  }
  const { value, grads } = leanGradients(f, trainable, true);
  if (!grads.some((g) => g != null)) {
    throw new Error(
      'Cannot find a connection between any variable and the result of the loss function y=f(x). Please make sure ' +
        'the operations that use variables are inside the function f passed to minimize().',
    );
  }
  if (value.rank !== 0) throw new Error(`The f passed in variableGrads(f) must return a scalar, but it returned a rank-${value.rank} tensor`);
  const named: Record<string, tf.Tensor | null> = {};
  trainable.forEach((v, i) => {
    if (grads[i] != null) named[v.name] = grads[i]!;
  });
  for (const v of nonTrainable) named[v.name] = null;
  return { value, grads: named };
}
