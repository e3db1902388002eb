/** Reports what a benchmark is doing now, e.g. `[2/4] fan-out: N=100 roomcast trial 3/5`. */
export type Progress = (step: string) => void;

/**
 * Progress on stderr, so stdout keeps just the tables: one line rewritten in
 * place on a terminal, a line per step otherwise (CI logs, pipes).
 */
export function createProgress(
  index: number,
  total: number,
  name: string,
): Progress & { done(summary: string): void } {
  const tty = process.stderr.isTTY;
  const started = performance.now();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;
  const write = (line: string, final = false) => {
    if (tty) process.stderr.write(`\r\x1b[K${line}${final ? "\n" : ""}`);
    else process.stderr.write(`${line}\n`);
  };
  const progress = (step: string) => write(`[${index}/${total}] ${name}: ${step} (${elapsed()})`);
  return Object.assign(progress, {
    done: (summary: string) => write(`[${index}/${total}] ${name}: ${summary} in ${elapsed()}`, true),
  });
}
