/** A PyTorch-style size argument: one number for both spatial dims, or `[height, width]`. */
export type Pair = number | readonly [number, number];

export function toPair(value: Pair, what: string, { min = 0 }: { min?: number } = {}): [number, number] {
  const pair: [number, number] = typeof value === 'number' ? [value, value] : [value[0], value[1]];
  for (const v of pair) {
    if (!Number.isInteger(v) || v < min) {
      throw new RangeError(`${what} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(value)}`);
    }
  }
  return pair;
}

/** Padding of the four sides, in PyTorch's `nn.*Pad2d` order: `[left, right, top, bottom]`, or one number. */
export type Padding2d = number | readonly [number, number, number, number];

export interface Sides {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export function toSides(padding: Padding2d, what: string): Sides {
  const [left, right, top, bottom] = typeof padding === 'number' ? [padding, padding, padding, padding] : padding;
  for (const v of [left, right, top, bottom]) {
    if (!Number.isInteger(v) || v < 0) {
      throw new RangeError(`${what}: padding must be non-negative integers [left, right, top, bottom], got ${JSON.stringify(padding)}`);
    }
  }
  return { left, right, top, bottom };
}

export function assertRank4(shape: readonly number[], what: string): void {
  if (shape.length !== 4) throw new Error(`${what} expects an NHWC tensor of rank 4, got shape [${shape.join(', ')}]`);
}

/** tfjs's explicit NHWC padding: `[[0, 0], [top, bottom], [left, right], [0, 0]]`. */
export type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];
