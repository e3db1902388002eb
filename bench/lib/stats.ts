/** Nearest-rank percentile: with few trials the p95 is the slowest one, never an interpolation. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error("percentile of no values");
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

export const median = (values: readonly number[]) => percentile(values, 50);

export type Summary = { median: number; p95: number; trials: number };

export const summarize = (values: readonly number[]): Summary => ({
  median: median(values),
  p95: percentile(values, 95),
  trials: values.length,
});

export const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);
