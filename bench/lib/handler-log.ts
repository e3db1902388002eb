import { createLogger } from "../../handlers/log";

/**
 * A logger for the local stack under benchmark: info lines are dropped (they
 * would cost as much as the work measured), but a warning or an error (a failed
 * post, a crash) is kept, and `check()` fails the run with it.
 */
export function problemLogger() {
  const problems: string[] = [];
  return {
    logger: createLogger({}, (line) => {
      if (!line.includes('"level":"info"')) problems.push(line);
    }),
    check() {
      if (problems.length) throw new Error(`handlers reported problems:\n${problems.slice(0, 3).join("\n")}`);
    },
  };
}
