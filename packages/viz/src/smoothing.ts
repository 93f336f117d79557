/**
 * TensorBoard's scalar smoothing: an exponential moving average debiased for its start (as Adam's moments), so
 * the first points are not pulled towards zero. `weight` 0 is the raw series; TensorBoard's default is 0.6.
 * Non-finite values are passed through and do not enter the average.
 */
export class EmaSmoother {
  private last = 0;
  private count = 0;

  constructor(readonly weight: number) {
    if (!(weight >= 0 && weight < 1)) throw new RangeError(`smoothing weight must be in [0, 1), got ${weight}`);
  }

  next(value: number): number {
    if (!Number.isFinite(value)) return value;
    this.last = this.last * this.weight + (1 - this.weight) * value;
    this.count++;
    return this.weight === 0 ? value : this.last / (1 - this.weight ** this.count);
  }
}

export function smoothSeries(values: readonly number[], weight: number): number[] {
  const ema = new EmaSmoother(weight);
  return values.map((v) => ema.next(v));
}
