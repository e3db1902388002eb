/** @jest-environment node */
import { accessSync, constants, existsSync } from "node:fs";
import { cpuRoot } from "../../bench/lib/cpu-cap";
import { alive, runInGroup } from "../support/child-process";

/** Creating CPU groups needs the cgroup v1 cpu controller and the right to write to it (root). */
function cgroupsWritable(): string | undefined {
  try {
    accessSync(cpuRoot, constants.W_OK);
    return undefined;
  } catch (error) {
    return `${cpuRoot} is not writable here (${(error as Error).message})`;
  }
}
const skipReason = cgroupsWritable();
if (skipReason) console.warn(`SKIPPED tests/bench/cpu-cap.test.ts: ${skipReason}`);
const maybe = skipReason ? describe.skip : describe;

const waitUntil = async (condition: () => boolean, what: string) => {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!condition()) throw new Error(`timed out waiting until ${what}`);
};

maybe("a benchmark process removes its CPU groups however it ends", () => {
  it.each([
    ["SIGTERM", ["SIGTERM"]],
    ["Ctrl-C (SIGINT)", ["SIGINT"]],
    ["an unhandled exception", ["--throw"]],
  ])("on %s", async (_how, [how]) => {
    // Node with tsx's loader, not tsx's CLI: that one relays a signal and SIGKILLs its child when it
    // has not reported it within 30 ms, which a loaded machine misses (watch.test saw it), and a
    // killed holder could not remove its groups.
    const holder = runInGroup(
      process.execPath,
      ["--import", "tsx", "tests/support/cgroup-holder.ts", ...(how === "--throw" ? [how] : [])],
      {},
    );
    try {
      const printed = await holder.printed(/holding (\{.*\})\n/);
      const { groups, workers } = JSON.parse(/holding (\{.*\})\n/.exec(printed)![1]) as {
        groups: string[];
        workers: number[];
      };
      expect(groups).toHaveLength(2);
      if (how !== "--throw") {
        for (const group of groups) expect(existsSync(group)).toBe(true);
        process.kill(holder.pid, how as NodeJS.Signals);
      }
      const exit = await holder.exited;
      expect(exit.code === 0 && exit.signal === null).toBe(false);
      for (const group of groups) expect(existsSync(group)).toBe(false);
      // The worker containers do not outlive their harness either.
      await waitUntil(() => !workers.some(alive), "the worker processes have exited");
    } finally {
      holder.killAll();
    }
  });
});
