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
  unmatchedRouteRateLimit: "UNMATCHED_ROUTE_RATE_LIMIT",
  unmatchedRouteBurstLimit: "UNMATCHED_ROUTE_BURST_LIMIT",
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
 * `npm start`'s gateway settings: stage throttling as the Pulumi stage sets it, a bucket
 * per route (`roomcast:throttlingRateLimit` / `throttlingBurstLimit` for each route,
 * `unmatchedRouteRateLimit` / `unmatchedRouteBurstLimit` for `$default`; same defaults,
 * overridden by the environment variables of the same names in upper snake case), the
 * `$disconnect` fault mode (DROP_DISCONNECTS=1) and the page origins it takes handshakes from
 * (ALLOWED_ORIGINS, the same variable `$connect` reads; unset: the gateway's own page).
 *
 * @example
 * gatewaySettingsFromEnv({ THROTTLING_RATE_LIMIT: "5" });
 * // { throttling: { defaultRoute: { rateLimit: 5, burstLimit: 1000 }, routes: { $default: … } }, … }
 */
export function gatewaySettingsFromEnv(env: NodeJS.ProcessEnv): GatewaySettings {
  const drop = env[gatewayEnv.dropDisconnects] ?? "";
  if (!["", "0", "1"].includes(drop)) throw new Error(`${gatewayEnv.dropDisconnects}=${drop}: use 1 or 0`);
  return {
    throttling: {
      defaultRoute: {
        rateLimit: count(env, gatewayEnv.throttlingRateLimit, infraDefaults.throttlingRateLimit),
        burstLimit: count(env, gatewayEnv.throttlingBurstLimit, infraDefaults.throttlingBurstLimit),
      },
      routes: {
        $default: {
          rateLimit: count(env, gatewayEnv.unmatchedRouteRateLimit, infraDefaults.unmatchedRouteRateLimit),
          burstLimit: count(env, gatewayEnv.unmatchedRouteBurstLimit, infraDefaults.unmatchedRouteBurstLimit),
        },
      },
    },
    dropDisconnects: drop === "1",
    allowedOrigins: parseOrigins(env[configEnv.allowedOrigins]),
  };
}
