import { jwtVerify, SignJWT, errors } from "jose";

/** Who a valid token says the client is; the display name comes from here, never from the client. */
export type TokenIdentity = { sub: string; name: string };

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

/** Verifies signature (HS256 only), issuer, audience, expiry and the claims roomcast needs. */
export async function verifyToken(secret: string, token: string): Promise<VerifyOutcome> {
  try {
    const { payload } = await jwtVerify(token, key(secret), { algorithms: ["HS256"], issuer, audience });
    if (typeof payload.sub !== "string" || !payload.sub) return { ok: false, reason: "token has no subject" };
    if (typeof payload.name !== "string" || !payload.name) return { ok: false, reason: "token has no name" };
    if (payload.exp === undefined) return { ok: false, reason: "token has no expiry" };
    return { ok: true, identity: { sub: payload.sub, name: payload.name } };
  } catch (error) {
    if (error instanceof errors.JWTExpired) return { ok: false, reason: "token expired" };
    if (error instanceof errors.JOSEError) return { ok: false, reason: `invalid token (${error.code})` };
    throw error;
  }
}
