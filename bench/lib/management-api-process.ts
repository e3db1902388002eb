/**
 * The loopback Management API of the tests (tests/support/management-api.ts) in
 * a child process with a fixed delay per call (the round trip to API Gateway),
 * so this process's CPU time is the sender's alone.
 */
import { fork } from "node:child_process";
import { startManagementApi } from "../../tests/support/management-api";

/** The child: serves; "clear" resets its records, and every command is answered with the peak concurrency. */
async function serve(latencyMs: number) {
  const api = await startManagementApi({ latencyMs });
  process.send!(api.url);
  process.on("message", (command) => {
    if (command === "clear") api.clearRecords();
    process.send!(api.peakInFlight());
  });
  process.on("disconnect", () => void api.close());
}

export function startManagementApiProcess(latencyMs: number) {
  const child = fork(__filename, ["--serve", String(latencyMs)]);
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`management API process exited (${code})`))),
  );
  exited.catch(() => undefined);
  const next = <T>() =>
    Promise.race([new Promise<T>((resolve) => child.once("message", (m) => resolve(m as T))), exited]);
  const ask = (command: "clear" | "peak") => {
    const answer = next<number>();
    child.send(command);
    return answer;
  };
  return {
    url: next<string>(),
    /** Forgets the posts recorded so far (they would pile up over many trials). */
    clear: () => ask("clear"),
    /** Most posts in flight at once since the last clear. */
    peak: () => ask("peak"),
    stop: () => child.disconnect(),
  };
}

if (require.main === module && process.argv[2] === "--serve") void serve(Number(process.argv[3]));
