// Checking a loaded state dict against the shapes a model needs, so that a wrong checkpoint fails with one
// error listing every difference instead of a shape error deep inside the first layer that uses it.
import { WeightFileError } from './errors';

/** Anything with a shape: tfjs tensors and raw file tensors alike. */
export interface Shaped {
  readonly shape: readonly number[];
}

function format(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Throws a WeightFileError listing every tensor that `expected` names but `stateDict` lacks, every tensor
 * `stateDict` has that `expected` does not name, and every shape that differs; each line names the file
 * (`source`), the tensor, what it has and what was expected.
 */
export function checkStateDictShapes(
  stateDict: Readonly<Record<string, Shaped>>,
  expected: Readonly<Record<string, readonly number[]>>,
  source: string,
): void {
  const problems: string[] = [];
  for (const [name, shape] of Object.entries(expected)) {
    const tensor = Object.hasOwn(stateDict, name) ? stateDict[name] : undefined;
    if (tensor === undefined) {
      problems.push(`${source}: tensor '${name}' is missing (expected shape ${format(shape)})`);
    } else if (tensor.shape.length !== shape.length || tensor.shape.some((d, i) => d !== shape[i])) {
      problems.push(`${source}: tensor '${name}' has shape ${format(tensor.shape)}, expected ${format(shape)}`);
    }
  }
  for (const [name, tensor] of Object.entries(stateDict)) {
    if (!Object.hasOwn(expected, name)) {
      problems.push(`${source}: tensor '${name}' (shape ${format(tensor.shape)}) is not expected by the model`);
    }
  }
  if (problems.length > 0) {
    const count = problems.length === 1 ? '1 tensor does' : `${problems.length} tensors do`;
    throw WeightFileError.list(source, `${count} not match the expected shapes:`, problems);
  }
}
