import { configEnv } from "../handlers/config";
import { parseOrigins } from "../handlers/origins";
import { infraDefaults } from "../infra/defaults";
import type { GatewayOptions } from "./gateway";

/** The gateway's fidelity settings a local stack passes through (see local/stack.ts `gateway`). */
export type GatewaySettings = Pick<
  GatewayOptions,
  "throttling" | "integrationTimeoutMs" | "dropDisconnects" | "managementCredentials" | "allowedOrigins"
>;

/** Environment variables `npm start` reads for them. */
export const gatewayEnv = {
  throttlingRateLimit: "THROTTLING_RATE_LIMIT",
  throttlingBurstLimit: "THROTTLING_BURST_LIMIT",
  dropDisconnects: "DROP_DISCONNECTS",
} as const;

function count(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = env[name];
  if (value === undefined || value === "") return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`${name}=${value} is not a number >= 0`);
  return parsed;
}

/**
 * `npm start`'s gateway settings: stage throttling as the Pulumi stage sets it
 * (`roomcast:throttlingRateLimit` / `throttlingBurstLimit`, same defaults, overridden by
 * THROTTLING_RATE_LIMIT / THROTTLING_BURST_LIMIT) and the `$disconnect` fault mode
 * (DROP_DISCONNECTS=1), and the page origins it takes handshakes from (ALLOWED_ORIGINS, the
 * same variable `$connect` reads; unset: the gateway's own page).
 *
 * @example
 * gatewaySettingsFromEnv({ THROTTLING_RATE_LIMIT: "5" });
 * // { throttling: { rateLimit: 5, burstLimit: 100 }, dropDisconnects: false }
 */
export function gatewaySettingsFromEnv(env: NodeJS.ProcessEnv): GatewaySettings {
  const drop = env[gatewayEnv.dropDisconnects] ?? "";
  if (!["", "0", "1"].includes(drop)) throw new Error(`${gatewayEnv.dropDisconnects}=${drop}: use 1 or 0`);
  return {
    throttling: {
      rateLimit: count(env, gatewayEnv.throttlingRateLimit, infraDefaults.throttlingRateLimit),
      burstLimit: count(env, gatewayEnv.throttlingBurstLimit, infraDefaults.throttlingBurstLimit),
    },
    dropDisconnects: drop === "1",
    allowedOrigins: parseOrigins(env[configEnv.allowedOrigins]),
  };
}
