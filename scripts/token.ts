/**
 * Mints a token for a roomcast stack with auth on.
 *   npm run token -- --name alice [--sub user-42] [--ttl 3600]
 * The secret is AUTH_SECRET, else the local stack's (.data/auth-secret). The name and the
 * lifetime must pass what the authorizer checks (TOKEN_MAX_LIFETIME_SECONDS, default 1 day).
 */
import { parseArgs } from "node:util";
import { localAuthSecret } from "../local/auth-secret";
import { readSettings } from "../handlers/config";
import { checkName } from "../handlers/names";
import { signToken } from "../handlers/token";

async function main() {
  const { values } = parseArgs({
    options: {
      name: { type: "string" },
      sub: { type: "string" },
      ttl: { type: "string", default: "3600" },
    },
  });
  if (!values.name) throw new Error("usage: npm run token -- --name alice [--sub user-42] [--ttl 3600]");
  const settings = readSettings(process.env);
  const ttl = Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl <= 0 || ttl > settings.tokenMaxLifetimeSeconds) {
    throw new Error(
      `--ttl must be 1 to ${settings.tokenMaxLifetimeSeconds} seconds (TOKEN_MAX_LIFETIME_SECONDS)`,
    );
  }
  const name = checkName(values.name, settings.maxNameLength);
  if (!name.ok) throw new Error(`--name ${name.rule}`);
  const token = await signToken(localAuthSecret(), { sub: values.sub ?? name.name, name: name.name }, ttl);
  process.stdout.write(token + "\n");
}

main().catch((error: Error) => {
  process.stderr.write(`token: ${error.message}\n`);
  process.exit(1);
});
