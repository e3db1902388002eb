import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { APIGatewayAuthorizerResult } from "aws-lambda";
import { routes } from "../../handlers/routes";
import { signToken } from "../../handlers/token";
import { readStackConfig } from "../../infra/config";
import {
  startLambdaBackend,
  unpackLambdas,
  type LambdaBackend,
  type UnpackedLambdas,
} from "../support/lambda-backend";
import {
  authorizerEvent,
  connectionId,
  startLambdaEnvironment,
  websocketEvent,
  type LambdaEnvironment,
} from "../support/pulumi-lambda";
import { account, region, runProgram, type ProgramRun } from "../support/pulumi-mocks";

// The `dev` stack after `pulumi config set --secret authSecret ...`: `$connect` requires a token.
const authSecret = "dev-stack-signing-secret-0123456789abcdef";

const T = {
  api: "aws:apigatewayv2/api:Api",
  authorizer: "aws:apigatewayv2/authorizer:Authorizer",
  route: "aws:apigatewayv2/route:Route",
  fn: "aws:lambda/function:Function",
  permission: "aws:lambda/permission:Permission",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
};

let run: ProgramRun;
/** The authorizer's and `$connect`'s archives, unpacked as Lambda would, and what `$connect` writes to. */
let lambdas: UnpackedLambdas;
let backend: LambdaBackend;

// Pulumi serializing the functions takes minutes on a loaded 2-core machine: slow, not hung.
beforeAll(async () => {
  // Only the two functions this file runs: Pulumi's walk of each closure is most of a run.
  run = await runProgram("dev", { authSecret }, ["authSecret"], {
    serializeLambdas: ["roomcast-dev-authorizer", "roomcast-dev-connect"],
  });
  lambdas = await unpackLambdas(run, "dev", ["authorizer", "connect"]);
  backend = await startLambdaBackend(lambdas);
}, 600_000);

afterAll(async () => {
  await backend?.stop();
  lambdas?.remove();
}, 60_000);

const api = () => run.ofType(T.api)[0];
const authorizer = () => run.ofType(T.authorizer)[0];
const authorizerFn = () =>
  run.ofType(T.fn).find((f) => f.state.invokeArn === authorizer().inputs.authorizerUri)!;
const connectRoute = () => run.ofType(T.route).find((r) => r.inputs.routeKey === "$connect")!;

describe("the $connect authorizer", () => {
  // check 1: one REQUEST authorizer on this API, reading `?token=`, running its own function.
  it("is a REQUEST authorizer of this API on the token query parameter", () => {
    expect(run.ofType(T.authorizer)).toHaveLength(1);
    expect(authorizer().inputs).toEqual({
      apiId: api().id,
      name: "roomcast-dev-authorizer",
      authorizerType: "REQUEST",
      authorizerUri: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/arn:aws:lambda:${region}:${account}:function:roomcast-dev-authorizer/invocations`,
      identitySources: ["route.request.querystring.token"],
    });
    expect(authorizerFn().inputs.name).toBe("roomcast-dev-authorizer");
  });

  // check 2: `$connect` is CUSTOM with it; the other routes carry no authorizer.
  it("guards $connect and no other route", () => {
    expect(connectRoute().inputs).toMatchObject({
      authorizationType: "CUSTOM",
      authorizerId: authorizer().id,
    });
    const others = run.ofType(T.route).filter((r) => r.inputs.routeKey !== "$connect");
    expect(others).toHaveLength(routes.length - 1);
    for (const route of others) {
      expect(route.inputs.authorizationType).toBeUndefined();
      expect(route.inputs.authorizerId).toBeUndefined();
    }
  });

  // check 3: API Gateway may invoke the function as this API's authorizer only.
  it("may be invoked by this API's authorizers only", () => {
    const permissions = run
      .ofType(T.permission)
      .filter((p) => p.inputs.function === authorizerFn().state.name);
    expect(permissions.map((p) => p.inputs)).toEqual([
      {
        action: "lambda:InvokeFunction",
        function: "roomcast-dev-authorizer",
        principal: "apigateway.amazonaws.com",
        sourceArn: `arn:aws:execute-api:${region}:${account}:${api().id}/authorizers/${authorizer().id}`,
      },
    ]);
  });

  // check 4: its own role, which may write its own log group and nothing else.
  it("runs with a role that may only write its own log group", () => {
    const fn = authorizerFn();
    const role = run.ofType(T.role).find((r) => r.state.arn === fn.inputs.role)!;
    const policies = run.ofType(T.rolePolicy).filter((p) => p.inputs.role === role.id);
    const logGroup = run
      .ofType(T.logGroup)
      .find((g) => g.inputs.name === "/aws/lambda/roomcast-dev-authorizer")!;
    expect(JSON.parse(role.inputs.assumeRolePolicy).Statement).toEqual([
      { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
    ]);
    expect(policies).toHaveLength(1);
    expect(JSON.parse(policies[0].inputs.policy).Statement).toEqual([
      {
        Sid: "OwnLogGroup",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: `${logGroup.state.arn}:*`,
      },
    ]);
    expect(logGroup.inputs.retentionInDays).toBe(14);
  });

  // check 5: nodejs22.x on arm64 with the secret, still a Pulumi secret, as its only variable.
  it("gets the secret, kept secret, and no route function gets it", () => {
    const fn = authorizerFn();
    expect(fn.inputs).toMatchObject({
      runtime: "nodejs22.x",
      architectures: ["arm64"],
      handler: "__index.handler",
      loggingConfig: { logFormat: "JSON", logGroup: "/aws/lambda/roomcast-dev-authorizer" },
    });
    expect(pulumi.runtime.isRpcSecret(fn.inputs.environment)).toBe(true);
    // The secret, and the settings its token policy reads (lifetime, clock skew, name length).
    expect(pulumi.runtime.unwrapRpcSecret(fn.inputs.environment)).toEqual({
      variables: expect.objectContaining({
        AUTH_SECRET: authSecret,
        TOKEN_MAX_LIFETIME_SECONDS: "86400",
        TOKEN_CLOCK_SKEW_SECONDS: "60",
        MAX_NAME_LENGTH: "32",
      }),
    });
    for (const other of run.ofType(T.fn).filter((f) => f !== fn)) {
      expect(pulumi.runtime.isRpcSecret(other.inputs.environment)).toBe(false);
      expect(other.inputs.environment.variables.AUTH_SECRET).toBeUndefined();
    }
  });

  // check 6: the ready-made wscat command asks for a token.
  it("makes the wscat output carry a token", () => {
    expect(run.outputs.wscat).toBe(
      `wscat -c "wss://${api().id}.execute-api.${region}.amazonaws.com/dev?token=$TOKEN"`,
    );
  });
});

describe("the serialized authorizer, invoked in a fresh Node", () => {
  /** Started (a cold start) by the first invocation, then kept warm as Lambda keeps a sandbox. */
  let environment: LambdaEnvironment | undefined;
  afterAll(() => environment?.stop());

  /** Runs the authorizer's archive with its Pulumi environment (the secret unwrapped, as Lambda sees it). */
  function authorize(event?: unknown) {
    const { fn, dir } = lambdas.get("authorizer");
    const { variables } = pulumi.runtime.unwrapRpcSecret(fn.inputs.environment);
    environment ??= startLambdaEnvironment(dir, { ...variables, AWS_LAMBDA_FUNCTION_NAME: fn.inputs.name });
    return environment.invoke<APIGatewayAuthorizerResult>(event);
  }
  const effect = (result?: APIGatewayAuthorizerResult) =>
    (result?.policyDocument.Statement[0] as { Effect: string }).Effect;

  // check 7: it loads from the archive alone, jose included.
  it("loads with every module from the archive", async () => {
    const { dir, packagesDir, holds } = lambdas.get("authorizer");
    const loaded = await authorize();
    expect(loaded.error).toBeUndefined();
    expect(loaded.node).toMatch(/^22\./);
    expect(loaded.handlerType).toBe("function");
    expect(loaded.modules.filter((file) => !holds(file))).toEqual([]);
    expect(loaded.modules).toContain(join(dir, "__index.js"));
    expect(loaded.modules).toContain(join(packagesDir, "node_modules/jose/dist/node/cjs/index.js"));
  });

  // check 8: a token signed with the stack's secret is allowed, with its subject and name in the context.
  it("allows a token made by signToken with the stack's secret", async () => {
    const alice = connectionId();
    const token = await signToken(authSecret, { sub: "user-42", name: "alice" });
    const event = authorizerEvent(alice, { query: { token } });
    const { result, logs, error } = await authorize(event);
    expect(error).toBeUndefined();
    expect(effect(result)).toBe("Allow");
    expect(result).toMatchObject({
      principalId: "user-42",
      context: { sub: "user-42", name: "alice" },
      policyDocument: { Statement: [{ Action: "execute-api:Invoke", Resource: event.methodArn }] },
    });
    expect(logs).toContainEqual(expect.objectContaining({ msg: "connect allowed", connectionId: alice }));
    expect(JSON.stringify(logs)).not.toContain(token);
    expect(JSON.stringify(logs)).not.toContain(authSecret);
  });

  // check 9: a token signed with another secret, or with its claims swapped, is denied.
  it("denies a forged token", async () => {
    const forged = await signToken("not-the-stack-secret-0123456789abcdef", {
      sub: "user-42",
      name: "alice",
    });
    const [header, , signature] = (await signToken(authSecret, { sub: "user-42", name: "alice" })).split(".");
    const swapped = Buffer.from(JSON.stringify({ sub: "admin", name: "admin", exp: 9e9 })).toString(
      "base64url",
    );
    for (const token of [forged, `${header}.${swapped}.${signature}`]) {
      const { result, logs } = await authorize(authorizerEvent(connectionId(), { query: { token } }));
      expect(effect(result)).toBe("Deny");
      expect(result!.context).toBeUndefined();
      expect(logs).toContainEqual(expect.objectContaining({ msg: "connect denied" }));
    }
  });

  // check 10: `$connect` then takes the display name from the token, not from `?name=`.
  it("names the connection after the token in the serialized $connect", async () => {
    const alice = connectionId();
    const token = await signToken(authSecret, { sub: "user-42", name: "alice" });
    const { result: allowed } = await authorize(authorizerEvent(alice, { query: { token } }));
    expect(effect(allowed)).toBe("Allow");
    const event = websocketEvent("$connect", alice, {
      query: { name: "mallory" },
      authorizer: { principalId: allowed!.principalId, integrationLatency: 12, ...allowed!.context },
    });
    const { result } = await backend.invoke("connect", event);
    expect(result).toEqual({ statusCode: 200 });
    const stored = await backend.table.service.entities.connection
      .get({ connectionId: alice })
      .go({ consistent: true });
    expect(stored.data).toMatchObject({ connectionId: alice, name: "alice", userId: "user-42" });
  });
});

// check 11: a secret too short for HS256 fails `pulumi preview` (not the first handshake), unprinted.
it("rejects an authSecret shorter than 32 characters without showing it", () => {
  pulumi.runtime.setAllConfig({ "roomcast:authSecret": "short-secret" }, ["roomcast:authSecret"]);
  const read = () => readStackConfig(new pulumi.Config("roomcast"), "dev");
  expect(read).toThrow("roomcast:authSecret must be at least 32 characters");
  // Pulumi's own range error would print the value.
  expect(read).not.toThrow("short-secret");
  pulumi.runtime.setAllConfig({});
});
