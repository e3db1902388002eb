/** Elapsed seconds since `started` (a performance.now() reading), as `1.8 s`. */
export const secondsSince = (started: number): string =>
  `${((performance.now() - started) / 1000).toFixed(1)} s`;

/**
 * Numbered progress lines for a startup of `total` steps: `[2/4] DynamoDB Local ...`
 * while a slow step runs, then its outcome with the time it took.
 */
export function createSteps(total: number, report: (line: string) => void) {
  let current = 0;
  return async function step<T>(
    label: string,
    run: () => Promise<T>,
    outcome: (value: T) => string,
    options: { slow?: boolean } = {},
  ): Promise<T> {
    const prefix = `[${++current}/${total}] ${label}`;
    const started = performance.now();
    if (options.slow) report(`${prefix} ...`);
    const value = await run();
    report(`${prefix}: ${outcome(value)} in ${secondsSince(started)}`);
    return value;
  };
}
