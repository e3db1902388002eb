import { jwtVerify, SignJWT, errors } from "jose";
import type { ChatConfig } from "./config";
import { checkName } from "./names";

/** Who a valid token says the client is; the display name comes from here, never from the client. */
export type TokenIdentity = { sub: string; name: string };

/** What a token must satisfy beyond its signature (handlers/config.ts). */
export type TokenPolicy = Pick<
  ChatConfig,
  "tokenMaxLifetimeSeconds" | "tokenClockSkewSeconds" | "maxNameLength"
>;

const issuer = "roomcast";
const audience = "roomcast";
const key = (secret: string) => new TextEncoder().encode(secret);

/** Mints an HS256 token (`npm run token`, tests). */
export function signToken(secret: string, identity: TokenIdentity, ttlSeconds = 3600): Promise<string> {
  return new SignJWT({ name: identity.name })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(identity.sub)
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(key(secret));
}

export type VerifyOutcome = { ok: true; identity: TokenIdentity } | { ok: false; reason: string };

/**
 * Verifies signature (HS256 only), issuer, audience, expiry, a lifetime of at most
 * `tokenMaxLifetimeSeconds`, `iat`/`nbf` not in the future (beyond the clock skew),
 * and a subject and a name that passes the same checks as `?name=`.
 */
export async function verifyToken(
  secret: string,
  token: string,
  policy: TokenPolicy,
  now = new Date(),
): Promise<VerifyOutcome> {
  const skew = policy.tokenClockSkewSeconds;
  try {
    const { payload } = await jwtVerify(token, key(secret), {
      algorithms: ["HS256"],
      issuer,
      audience,
      requiredClaims: ["exp"],
      clockTolerance: skew,
      currentDate: now,
    });
    const nowSeconds = Math.floor(now.getTime() / 1000);
    if (typeof payload.sub !== "string" || !payload.sub) return { ok: false, reason: "token has no subject" };
    if (typeof payload.name !== "string") return { ok: false, reason: "token has no name" };
    if (payload.iat !== undefined && payload.iat > nowSeconds + skew) {
      return { ok: false, reason: "token issued in the future (iat)" };
    }
    const validFrom = Math.min(payload.iat ?? nowSeconds, nowSeconds);
    if (payload.exp! - validFrom > policy.tokenMaxLifetimeSeconds + skew) {
      return { ok: false, reason: `token lives longer than ${policy.tokenMaxLifetimeSeconds} s (exp)` };
    }
    const name = checkName(payload.name, policy.maxNameLength);
    if (!name.ok) return { ok: false, reason: `token name: ${name.rule}` };
    return { ok: true, identity: { sub: payload.sub, name: name.name } };
  } catch (error) {
    if (error instanceof errors.JWTExpired) return { ok: false, reason: "token expired" };
    if (error instanceof errors.JWTClaimValidationFailed) {
      return { ok: false, reason: `invalid token (${error.claim}: ${error.reason})` };
    }
    if (error instanceof errors.JOSEError) return { ok: false, reason: `invalid token (${error.code})` };
    throw error;
  }
}
