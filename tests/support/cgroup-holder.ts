/**
 * A benchmark process in miniature for tests/bench/cpu-cap.test.ts: starts two
 * capped worker containers as the benchmarks do (bench/lib/lambda-process.ts,
 * a cgroup each), prints their groups and pids, then waits to be killed — or,
 * with `--throw`, fails with an unhandled rejection.
 */
import { join } from "node:path";
import { cpuRoot } from "../../bench/lib/cpu-cap";
import { startLambdaProcess, type Invocation } from "../../bench/lib/lambda-process";

async function main() {
  // Nothing is invoked: the workers only need a configuration to build their deps.
  const env = {
    TABLE_NAME: "unused",
    MANAGEMENT_ENDPOINT: "http://127.0.0.1:9",
    DYNAMODB_ENDPOINT: "http://127.0.0.1:9",
  };
  const log: Invocation[] = [];
  const names = ["stream", "fanout"].map((kind) => `roomcast-test-holder-${process.pid}-${kind}`);
  const workers = await Promise.all([
    startLambdaProcess("stream", env, 128, names[0], log),
    startLambdaProcess("fanout", env, 128, names[1], log),
  ]);
  const notCapped = workers.find((w) => !w.cap.applied);
  if (notCapped) throw new Error(`not capped: ${notCapped.cap.reason}`);
  const groups = names.map((name) => join(cpuRoot, name));
  console.log(`holding ${JSON.stringify({ groups, workers: workers.map((w) => w.pid) })}`);
  if (process.argv.includes("--throw")) throw new Error("holder: failing on purpose");
  setInterval(() => undefined, 60_000);
}

void main();
