import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The file in a data folder that holds its DynamoDB Local access key. */
export const accessKeyFileName = "access-key";

/**
 * The access key of the DynamoDB Local data in `dataDir`, made (random, 128 bits) on first
 * use and kept there, readable by its owner only. DynamoDB Local without -sharedDb keeps one
 * database per access key and region, and it listens on every interface with no option to
 * narrow that: without this key, a client that reaches the port sees an empty database.
 */
export function dataAccessKey(dataDir: string): string {
  const file = join(dataDir, accessKeyFileName);
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const key = randomBytes(16).toString("hex");
  writeFileSync(file, key + "\n", { mode: 0o600, flag: "wx" });
  return key;
}

/** `endpoint` with the access key every local client uses (model/client.ts clientConfig reads it). */
export function withAccessKey(endpoint: string, accessKeyId: string): string {
  const url = new URL(endpoint);
  url.username = accessKeyId;
  return url.href.replace(/\/$/, "");
}
