import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { alive } from "./child-process";

/**
 * One lock per jest run (its workers share the parent's pid) for the files that mark
 * themselves `@exclusive` in their docblock: CPU-heavy files (storms, a room of 1,000)
 * that time out when they share 2 cores with each other. Other files still run beside them.
 */
const lockDir = join(tmpdir(), `roomcast-jest-exclusive-${process.ppid}`);
const ownerFile = join(lockDir, "pid");

/** A holder that died without releasing (a killed worker) does not block the run. */
function removeIfAbandoned() {
  let owner: number;
  try {
    owner = Number(readFileSync(ownerFile, "utf8"));
  } catch {
    return; // being created or released right now
  }
  if (owner && !alive(owner)) rmSync(lockDir, { recursive: true, force: true });
}

/** Waits for the lock (mkdir is atomic) and returns its release. */
export async function acquireExclusive(): Promise<() => void> {
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(ownerFile, String(process.pid));
      return () => rmSync(lockDir, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      removeIfAbandoned();
      await delay(250);
    }
  }
}
