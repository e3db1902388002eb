import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const repo = resolve(__dirname, "../..");

export type Exit = { code: number | null; signal: NodeJS.Signals | null };

/**
 * Runs a command as a terminal would: in its own process group (so a test can
 * press Ctrl-C on the whole group), collecting everything it prints.
 */
export function runInGroup(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv },
) {
  const child: ChildProcess = spawn(command, args, {
    cwd: options.cwd ?? repo,
    env: options.env ?? process.env,
    detached: true,
    stdio: "pipe",
  });
  let output = "";
  const waiters: (() => void)[] = [];
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    for (const wake of waiters.splice(0)) wake();
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  // "close", not "exit": the exit can be reported before the last output is read from the pipes
  // (seen on a loaded machine: npm start's final log lines missing from `output` after its exit).
  const exited = new Promise<Exit>((done) => child.once("close", (code, signal) => done({ code, signal })));
  return {
    pid: child.pid!,
    output: () => output,
    exited,
    /** Resolves with the output once it matches; fails if the process exits first. */
    printed(expected: string | RegExp): Promise<string> {
      const found = () => (typeof expected === "string" ? output.includes(expected) : expected.test(output));
      return new Promise((done, fail) => {
        const look = () => (found() ? done(output) : waiters.push(look));
        void exited.then(() => !found() && fail(new Error(`exited before printing ${expected}:\n${output}`)));
        look();
      });
    },
    /** Ctrl-C in the terminal: SIGINT to every process of the group. */
    pressCtrlC: () => process.kill(-child.pid!, "SIGINT"),
    /** After a failed test: kills the group and the DynamoDB Local it printed the pid of, if still there. */
    killAll() {
      const dynamodbPid = Number(/\(pid (\d+)\)/.exec(output)?.[1]);
      for (const pid of [-child.pid!, dynamodbPid]) {
        if (alive(pid)) process.kill(pid, "SIGKILL");
      }
    },
  };
}

export function alive(pid: number): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A copy of the project's runtime sources (node_modules linked), for tests that edit files or keep data. */
export function projectCopy() {
  const dir = mkdtempSync(join(tmpdir(), "roomcast-copy-"));
  for (const entry of ["handlers", "model", "infra", "local", "web", "package.json", "tsconfig.json"]) {
    cpSync(join(repo, entry), join(dir, entry), { recursive: true });
  }
  symlinkSync(join(repo, "node_modules"), join(dir, "node_modules"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
