import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Lambda gives a function one full vCPU at 1,769 MB, and CPU in proportion to memory below that. */
export const lambdaMbPerVcpu = 1769;
export const cpuRoot = "/sys/fs/cgroup/cpu";
const periodUs = 100_000;

export type CpuCap = { memoryMb: number; applied: boolean; reason?: string; remove(): void };

/** The groups this process created and has not removed yet: removed however the process ends. */
const created = new Set<string>();

/**
 * Removes a group even if processes are still in it (a child that outlived its
 * harness): they go back to the root group first, as rmdir refuses a busy group.
 */
function removeGroup(group: string) {
  created.delete(group);
  if (!existsSync(group)) return;
  try {
    const pids = readFileSync(join(group, "cgroup.procs"), "utf8").split("\n").filter(Boolean);
    for (const pid of pids) writeFileSync(join(cpuRoot, "cgroup.procs"), pid);
    rmdirSync(group);
  } catch {
    // A process still moving in or out: the exit handler tries again.
  }
}

const removeAll = () => [...created].forEach(removeGroup);

/** Ctrl-C, SIGTERM, a hang-up: remove the groups, then die of the same signal (so the exit status says so). */
function onSignal(signal: NodeJS.Signals) {
  removeAll();
  for (const s of exitSignals) process.removeAllListeners(s);
  process.kill(process.pid, signal);
}
const exitSignals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
let cleanupInstalled = false;

/** Normal exit, `process.exit` after an error, an uncaught exception and the signals above. */
function installCleanup() {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on("exit", removeAll);
  for (const signal of exitSignals) process.once(signal, onSignal);
}

/**
 * Caps a process at the CPU share of a Lambda of `memoryMb` with a cgroup v1 CPU
 * quota (quota = memory/1769 × period). The group is removed by `remove()`, or,
 * whatever happens first, when this process ends (exit, exception, SIGINT, SIGTERM,
 * SIGHUP). Where the machine does not allow it (no cgroup v1 cpu controller, not
 * root), `applied` is false with the reason, and nothing is capped.
 *
 * @example
 * const cap = capCpu(child.pid!, 256, "roomcast-bench-1");
 * // ... run, stop the child ...
 * cap.remove();
 */
export function capCpu(pid: number, memoryMb: number, name: string): CpuCap {
  const group = join(cpuRoot, name);
  const notApplied = (error: unknown): CpuCap => ({
    memoryMb,
    applied: false,
    reason: (error as Error).message,
    remove: () => undefined,
  });
  try {
    mkdirSync(group);
  } catch (error) {
    return notApplied(error); // no controller, not root, or the name is taken: not ours to remove
  }
  created.add(group);
  installCleanup();
  try {
    writeFileSync(join(group, "cpu.cfs_period_us"), String(periodUs));
    writeFileSync(
      join(group, "cpu.cfs_quota_us"),
      String(Math.round((memoryMb / lambdaMbPerVcpu) * periodUs)),
    );
    writeFileSync(join(group, "cgroup.procs"), String(pid));
  } catch (error) {
    removeGroup(group);
    return notApplied(error);
  }
  return { memoryMb, applied: true, remove: () => removeGroup(group) };
}
