import { generateKeyPairSync } from "node:crypto";
import { SignJWT, type JWTPayload } from "jose";
import { defaultConfig } from "../../handlers/config";
import { signToken, verifyToken } from "../../handlers/token";

// verifyToken's claim checks on a fixed clock (its `now`), one claim wrong at a time.
const secret = "test-secret-of-enough-length-0123456789";
const now = new Date("2026-01-01T00:00:00Z");
const nowSeconds = now.getTime() / 1000;
const valid = {
  sub: "user-42",
  name: "alice",
  iss: "roomcast",
  aud: "roomcast",
  iat: nowSeconds,
  exp: nowSeconds + 600,
};

const signed = (
  claims: JWTPayload,
  alg = "HS256",
  key: Parameters<SignJWT["sign"]>[0] = new TextEncoder().encode(secret),
) => new SignJWT(claims).setProtectedHeader({ alg }).sign(key);

const verify = async (token: string) => verifyToken(secret, token, defaultConfig, now);
const without = (claim: keyof typeof valid) =>
  Object.fromEntries(Object.entries(valid).filter(([k]) => k !== claim));

test("a token with every claim right is allowed, with its subject and name", async () => {
  expect(await verify(await signed(valid))).toEqual({
    ok: true,
    identity: { sub: "user-42", name: "alice" },
  });
});

test("signToken's own tokens verify", async () => {
  const token = await signToken(secret, { sub: "user-42", name: "alice" });
  expect(await verifyToken(secret, token, defaultConfig)).toMatchObject({ ok: true });
});

test.each([
  ["another issuer", { ...valid, iss: "someone-else" }, "invalid token (iss: check_failed)"],
  ["no issuer", without("iss"), "invalid token (iss: missing)"],
  ["another audience", { ...valid, aud: "another-app" }, "invalid token (aud: check_failed)"],
  ["no audience", without("aud"), "invalid token (aud: missing)"],
  ["no subject", without("sub"), "token has no subject"],
  ["an empty subject", { ...valid, sub: "" }, "token has no subject"],
  ["no name", without("name"), "token has no name"],
  ["a name that is not a string", { ...valid, name: 42 }, "token has no name"],
  ["no expiry", without("exp"), "invalid token (exp: missing)"],
  [
    "an expiry a second ago, beyond the clock skew",
    { ...valid, exp: nowSeconds - defaultConfig.tokenClockSkewSeconds - 1 },
    "token expired",
  ],
])("a token with %s is denied", async (_, claims, reason) => {
  expect(await verify(await signed(claims))).toEqual({ ok: false, reason });
});

test.each(["HS384", "HS512"])(
  "a token signed with the right secret but %s is denied (HS256 only)",
  async (alg) => {
    expect(await verify(await signed(valid, alg))).toEqual({
      ok: false,
      reason: "invalid token (ERR_JOSE_ALG_NOT_ALLOWED)",
    });
  },
);

test("an RS256 token is denied", async () => {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  expect(await verify(await signed(valid, "RS256", privateKey))).toEqual({
    ok: false,
    reason: "invalid token (ERR_JOSE_ALG_NOT_ALLOWED)",
  });
});
