import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { readSettings } from "./config";
import { createLogger, type Logger } from "./log";
import { verifyToken, type TokenPolicy } from "./token";

/** The REQUEST authorizer's event on `$connect` (identity source: `route.request.querystring.token`). */
export type AuthorizerEvent = Pick<
  APIGatewayRequestAuthorizerEvent,
  "methodArn" | "queryStringParameters"
> & {
  requestContext?: { connectionId?: string };
};

export const authSecretEnv = "AUTH_SECRET";

/** HS256 wants a key at least as long as its 256-bit hash (RFC 7518, 3.2). */
export const authSecretMinLength = 32;

/** Refuses to run with a missing or short signing secret, on AWS and locally alike. */
export function assertAuthSecret(secret: string | undefined): asserts secret is string {
  if (!secret) throw new Error(`${authSecretEnv} is not set`);
  if (secret.length < authSecretMinLength) {
    throw new Error(
      `${authSecretEnv} must be at least ${authSecretMinLength} characters (it has ${secret.length}); ` +
        `make one with: openssl rand -base64 32`,
    );
  }
}

/**
 * Allows `$connect` for a valid, unexpired HS256 token and hands its subject and
 * name to the handlers in the authorizer context. A missing token never gets here
 * (API Gateway answers 401 itself); a forged or expired one is denied: 403.
 */
export async function authorize(
  event: AuthorizerEvent,
  deps: { secret: string; log: Logger; policy: TokenPolicy },
): Promise<APIGatewayAuthorizerResult> {
  const token = event.queryStringParameters?.token ?? "";
  const outcome = await verifyToken(deps.secret, token, deps.policy);
  const connectionId = event.requestContext?.connectionId;
  if (!outcome.ok) {
    deps.log.info("connect denied", { connectionId, reason: outcome.reason });
    return policy("anonymous", "Deny", event.methodArn);
  }
  deps.log.info("connect allowed", { connectionId, sub: outcome.identity.sub });
  return { ...policy(outcome.identity.sub, "Allow", event.methodArn), context: { ...outcome.identity } };
}

function policy(principalId: string, effect: "Allow" | "Deny", resource: string): APIGatewayAuthorizerResult {
  return {
    principalId,
    policyDocument: {
      Version: "2012-10-17",
      Statement: [{ Action: "execute-api:Invoke", Effect: effect, Resource: resource }],
    },
  };
}

/** The authorizer Lambda's `callbackFactory`: reads the secret and the token policy once per cold start. */
export function authorizerFactory() {
  return () => {
    const secret = process.env[authSecretEnv];
    assertAuthSecret(secret);
    const policy = readSettings(process.env);
    const log = createLogger({ service: "roomcast", route: "authorizer" });
    return (event: AuthorizerEvent) => authorize(event, { secret, log, policy });
  };
}
