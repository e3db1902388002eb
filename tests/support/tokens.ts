import { SignJWT } from "jose";

/** A token roomcast would accept but for its expiry, `secondsAgo` in the past. */
export function expiredToken(secret: string, identity = { sub: "user-42", name: "alice" }, secondsAgo = 60) {
  return new SignJWT({ name: identity.name })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(identity.sub)
    .setIssuer("roomcast")
    .setAudience("roomcast")
    .setExpirationTime(Math.floor(Date.now() / 1000) - secondsAgo)
    .sign(new TextEncoder().encode(secret));
}
