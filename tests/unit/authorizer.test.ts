import { UnsecuredJWT } from "jose";
import { authorize } from "../../handlers/authorizer";
import { createLogger } from "../../handlers/log";
import { signToken } from "../../handlers/token";
import { expiredToken } from "../support/tokens";

const secret = "test-secret-of-enough-length-0123456789";
const methodArn = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/dev/$connect";
const lines: string[] = [];
const deps = { secret, log: createLogger({}, (line) => lines.push(line)) };
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
