import { SignJWT, UnsecuredJWT, type JWTPayload } from "jose";
import { authorize, authorizerFactory, authSecretEnv } from "../../handlers/authorizer";
import { defaultConfig } from "../../handlers/config";
import { createLogger } from "../../handlers/log";
import { signToken } from "../../handlers/token";
import { expiredToken } from "../support/tokens";

const secret = "test-secret-of-enough-length-0123456789";
const methodArn = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/dev/$connect";
const lines: string[] = [];
const deps = { secret, log: createLogger({}, (line) => lines.push(line)), policy: defaultConfig };
const eventWith = (token?: string) => ({
  methodArn,
  queryStringParameters: token === undefined ? null : { token },
  requestContext: { connectionId: "Abc123xyz456QQ=" },
});
const effect = (result: Awaited<ReturnType<typeof authorize>>) =>
  (result.policyDocument.Statement[0] as { Effect: string }).Effect;

test("1. a valid token is allowed, with its subject and name in the context", async () => {
  const token = await signToken(secret, { sub: "user-42", name: "alice" });
  const result = await authorize(eventWith(token), deps);
  expect(effect(result)).toBe("Allow");
  expect(result.principalId).toBe("user-42");
  expect(result.context).toEqual({ sub: "user-42", name: "alice" });
  expect(result.policyDocument.Statement[0]).toMatchObject({ Resource: methodArn });
});

test("2. an expired token is denied", async () => {
  const token = await expiredToken(secret);
  expect(effect(await authorize(eventWith(token), deps))).toBe("Deny");
  expect(lines.at(-1)).toContain("token expired");
});

test("3. a token signed with another secret is denied", async () => {
  const token = await signToken("some-other-secret-0123456789abcdef", { sub: "user-42", name: "alice" });
  expect(effect(await authorize(eventWith(token), deps))).toBe("Deny");
});

test("4. an unsigned (alg none) or tampered token is denied", async () => {
  const unsigned = new UnsecuredJWT({ name: "alice" }).setSubject("user-42").setIssuer("roomcast").encode();
  expect(effect(await authorize(eventWith(unsigned), deps))).toBe("Deny");
  const [header, , signature] = (await signToken(secret, { sub: "user-42", name: "alice" })).split(".");
  const forgedPayload = Buffer.from(JSON.stringify({ sub: "admin", name: "admin", exp: 9e9 })).toString(
    "base64url",
  );
  expect(effect(await authorize(eventWith(`${header}.${forgedPayload}.${signature}`), deps))).toBe("Deny");
});

test("5. a missing or empty token is denied", async () => {
  expect(effect(await authorize(eventWith(), deps))).toBe("Deny");
  expect(effect(await authorize(eventWith(""), deps))).toBe("Deny");
});

describe("6. token claims beyond the signature", () => {
  const now = () => Math.floor(Date.now() / 1000);
  const year = 365 * 24 * 60 * 60;
  /** A token signed with the right secret, with exactly these claims. */
  const tokenWith = (claims: JWTPayload) =>
    new SignJWT({ sub: "user-42", name: "alice", iss: "roomcast", aud: "roomcast", ...claims })
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode(secret));
  const reasonOf = async (claims: JWTPayload) => {
    const result = await authorize(eventWith(await tokenWith(claims)), deps);
    return effect(result) === "Allow" ? "allowed" : (JSON.parse(lines.at(-1)!) as { reason: string }).reason;
  };

  test.each([
    [
      "expiring in 100 years",
      { iat: now(), exp: now() + 100 * year },
      "token lives longer than 86400 s (exp)",
    ],
    [
      "without iat, expiring in 100 years",
      { exp: now() + 100 * year },
      "token lives longer than 86400 s (exp)",
    ],
    [
      "issued 10 years in the future",
      { iat: now() + 10 * year, exp: now() + 10 * year + 60 },
      "token issued in the future (iat)",
    ],
    [
      "not before 10 years from now",
      { iat: now(), nbf: now() + 10 * year, exp: now() + 3600 },
      "invalid token (nbf: check_failed)",
    ],
    ["without exp", { iat: now() }, "invalid token (exp: missing)"],
    [
      "named U+202E plus 300 characters",
      { exp: now() + 60, name: "\u202e" + "x".repeat(300) },
      "token name: must be 1 to 32 characters",
    ],
    [
      "named U+202E",
      { exp: now() + 60, name: "\u202eevil" },
      "token name: must be printable (no control characters)",
    ],
    [
      "named System",
      { exp: now() + 60, name: "System" },
      "token name: must not be a reserved name (System, admin, moderator, guest-..., ... joined)",
    ],
    [
      "named with Hangul fillers",
      { exp: now() + 60, name: "\u3164\u3164" },
      "token name: must not contain invisible characters (fillers, blanks)",
    ],
  ])("a token %s is denied", async (_, claims, reason) => {
    expect(await reasonOf(claims)).toBe(reason);
  });

  test.each([
    ["for the maximum lifetime", { iat: now(), exp: now() + defaultConfig.tokenMaxLifetimeSeconds }],
    ["issued within the clock skew", { iat: now() + 30, exp: now() + 3600 }],
    ["named in full-width letters", { exp: now() + 60, name: "\uff41\uff4c\uff49\uff43\uff45" }],
  ])("a token %s is allowed", async (_, claims) => {
    expect(await reasonOf(claims)).toBe("allowed");
  });

  test("the name in the context is the normalised one", async () => {
    const result = await authorize(
      eventWith(await tokenWith({ exp: now() + 60, name: " \uff41\uff4c " })),
      deps,
    );
    expect(result.context).toEqual({ sub: "user-42", name: "al" });
  });
});

test("7. the authorizer refuses to start with a secret under 32 characters", () => {
  const saved = process.env[authSecretEnv];
  try {
    process.env[authSecretEnv] = "x";
    expect(() => authorizerFactory()()).toThrow("AUTH_SECRET must be at least 32 characters (it has 1)");
    process.env[authSecretEnv] = "y".repeat(31);
    expect(() => authorizerFactory()()).toThrow("AUTH_SECRET must be at least 32 characters (it has 31)");
    process.env[authSecretEnv] = "z".repeat(32);
    expect(typeof authorizerFactory()()).toBe("function");
  } finally {
    if (saved === undefined) delete process.env[authSecretEnv];
    else process.env[authSecretEnv] = saved;
  }
});
