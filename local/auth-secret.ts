import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { assertAuthSecret, authSecretEnv } from "../handlers/authorizer";

/** Where the local stack keeps its signing secret, beside its DynamoDB data. */
export const localSecretFile = join(__dirname, "..", ".data", "auth-secret");

/**
 * The local signing secret: `AUTH_SECRET` if set, else the one kept in `.data/`,
 * made on first use, so `npm start -- --auth` and `npm run token` agree. A short one
 * (under 32 characters) throws, as the deployed authorizer does.
 */
export function localAuthSecret(create = true): string {
  const fromEnv = process.env[authSecretEnv];
  if (fromEnv) {
    assertAuthSecret(fromEnv);
    return fromEnv;
  }
  if (existsSync(localSecretFile)) return readFileSync(localSecretFile, "utf8").trim();
  if (!create)
    throw new Error(`no ${authSecretEnv} set and no ${localSecretFile}; start the stack with --auth first`);
  mkdirSync(dirname(localSecretFile), { recursive: true });
  const secret = randomBytes(32).toString("base64url");
  writeFileSync(localSecretFile, secret + "\n", { mode: 0o600 });
  return secret;
}
