import { mkdirSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Lambda gives a function one full vCPU at 1,769 MB, and CPU in proportion to memory below that. */
export const lambdaMbPerVcpu = 1769;
const cpuRoot = "/sys/fs/cgroup/cpu";
const periodUs = 100_000;

export type CpuCap = { memoryMb: number; applied: boolean; reason?: string; remove(): void };

/**
 * Caps a process at the CPU share of a Lambda of `memoryMb` with a cgroup v1 CPU
 * quota (quota = memory/1769 × period); the group is removed by `remove()` once
 * the process has exited. Where the machine does not allow it (no cgroup v1 cpu
 * controller, not root), `applied` is false with the reason, and nothing is capped.
 *
 * @example
 * const cap = capCpu(child.pid!, 256, "roomcast-bench-1");
 * // ... run, stop the child ...
 * cap.remove();
 */
export function capCpu(pid: number, memoryMb: number, name: string): CpuCap {
  const group = join(cpuRoot, name);
  try {
    mkdirSync(group);
    writeFileSync(join(group, "cpu.cfs_period_us"), String(periodUs));
    writeFileSync(
      join(group, "cpu.cfs_quota_us"),
      String(Math.round((memoryMb / lambdaMbPerVcpu) * periodUs)),
    );
    writeFileSync(join(group, "cgroup.procs"), String(pid));
  } catch (error) {
    try {
      rmdirSync(group);
    } catch {
      // Never created.
    }
    return { memoryMb, applied: false, reason: (error as Error).message, remove: () => undefined };
  }
  return {
    memoryMb,
    applied: true,
    remove() {
      try {
        rmdirSync(group);
      } catch {
        // Still has a process in it (the child did not exit): left for the machine to clean.
      }
    },
  };
}
