/**
 * Mints a token for a roomcast stack with auth on.
 *   npm run token -- --name alice [--sub user-42] [--ttl 3600]
 * The secret is AUTH_SECRET, else the local stack's (.data/auth-secret).
 */
import { parseArgs } from "node:util";
import { localAuthSecret } from "../local/auth-secret";
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
  const ttl = Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl <= 0) throw new Error("--ttl must be a positive number of seconds");
  const token = await signToken(
    localAuthSecret(),
    { sub: values.sub ?? values.name, name: values.name },
    ttl,
  );
  process.stdout.write(token + "\n");
}

main().catch((error: Error) => {
  process.stderr.write(`token: ${error.message}\n`);
  process.exit(1);
});
