import { spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { checkSignature } from "../../local/sigv4";
import { localAws } from "../../model/client";
import type { MockedResource } from "./pulumi-mocks";

/**
 * Runs in a Node process as Lambda's Node runtime does: requires the handler module from
 * LAMBDA_TASK_ROOT (which runs the callbackFactory: the cold start) and answers each
 * invocation it is sent, one at a time, by `exports.handler(event, context)`, as a warm
 * execution environment does. Each reply carries that invocation's stdout lines.
 */
const runtimeSource = `
const { join } = require("node:path");
let stdout = "";
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, ...rest) => ((stdout += chunk), write(chunk, ...rest));
let lambda;
process.on("message", async ({ event, context }) => {
  stdout = "";
  const reply = (message) =>
    process.send({ node: process.versions.node, modules: Object.keys(require.cache), stdout, ...message });
  try {
    lambda ??= require(join(process.env.LAMBDA_TASK_ROOT, "__index.js"));
    if (event === undefined) return reply({ handlerType: typeof lambda.handler });
    const deadline = Date.now() + context.timeoutMs;
    const result = await lambda.handler(event, { ...context, getRemainingTimeInMillis: () => deadline - Date.now() });
    reply({ handlerType: typeof lambda.handler, result });
  } catch (error) {
    reply({ error: String((error && error.stack) || error) });
  }
});
`;

/** What a route's Lambda returns to API Gateway. */
export type RouteLambdaResult = { statusCode: number; body?: string };

export type LambdaRun<R = RouteLambdaResult> = {
  /** Node version of the child, from PATH. */
  node: string;
  handlerType: string;
  result?: R;
  error?: string;
  /** Every module file the child had loaded when it answered. */
  modules: string[];
  /** The invocation's stdout, one JSON log object a line. */
  logs: Record<string, unknown>[];
};

/**
 * A function's environment as Pulumi declared it, pointed at this run's table, management
 * endpoint and (given one) local fan-out queue: what Lambda would hand the serialized code.
 */
export function localLambdaEnv(
  fn: MockedResource,
  table: { tableName: string; endpoint: string },
  managementUrl: string,
  queue?: { endpoint: string; url: string },
): Record<string, string> {
  return {
    ...fn.inputs.environment.variables,
    TABLE_NAME: table.tableName,
    DYNAMODB_ENDPOINT: table.endpoint,
    MANAGEMENT_ENDPOINT: managementUrl,
    ...(queue && fn.inputs.environment.variables?.FANOUT_QUEUE_URL
      ? { FANOUT_QUEUE_URL: queue.url, SQS_ENDPOINT: queue.endpoint }
      : {}),
    AWS_LAMBDA_FUNCTION_NAME: fn.inputs.name,
  };
}

/**
 * An execution environment of the Lambda unpacked in `codeDir`: a `node` from PATH with only
 * `env` (no NODE_PATH: nothing outside the zip resolves), started on its first invocation and
 * kept warm for the next, one invocation at a time. One that runs past its timeout is killed,
 * as Lambda ends a timed-out sandbox; `ended` says so and a caller starts another.
 */
export function startLambdaEnvironment(codeDir: string, env: Record<string, string>) {
  const functionName = env.AWS_LAMBDA_FUNCTION_NAME ?? "roomcast-test";
  const logStreamName = `2030/01/01/[$LATEST]${randomBytes(16).toString("hex")}`;
  const child = spawn("node", ["-e", runtimeSource], {
    cwd: codeDir,
    env: { PATH: process.env.PATH!, LAMBDA_TASK_ROOT: codeDir, AWS_REGION: "us-east-1", ...env },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let stderr = "";
  child.stdout!.resume();
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk));
  let ended = false;
  const exited = new Promise<void>((done) =>
    child.on("exit", () => {
      ended = true;
      done();
    }),
  );
  // A spawn failure also ends in "exit", which fails the invocation waiting on it.
  child.on("error", () => {});

  async function invoke<R = RouteLambdaResult>(event?: unknown, timeoutMs = 20_000): Promise<LambdaRun<R>> {
    if (ended) throw new Error(`${functionName}: this execution environment has ended`);
    const context = {
      awsRequestId: randomUUID(),
      functionName,
      functionVersion: "$LATEST",
      invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
      memoryLimitInMB: "256",
      logGroupName: `/aws/lambda/${functionName}`,
      logStreamName,
      callbackWaitsForEmptyEventLoop: true,
      timeoutMs,
    };
    type Reply = Omit<LambdaRun<R>, "logs"> & { stdout: string };
    const { stdout, ...run } = await new Promise<Reply>((answered, failed) => {
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      const onMessage = (message: unknown) => {
        settle();
        answered(message as Reply);
      };
      const onExit = () => {
        settle();
        failed(
          new Error(
            `lambda process ended (${child.signalCode ?? child.exitCode}) without a reply:\n${stderr}`,
          ),
        );
      };
      const settle = () => {
        clearTimeout(timer);
        child.off("message", onMessage).off("exit", onExit);
      };
      child.once("message", onMessage).once("exit", onExit);
      child.send({ event, context });
    });
    const logs = stdout
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    return { ...run, logs };
  }

  return {
    invoke,
    ended: () => ended,
    stop: () => {
      child.kill("SIGKILL");
      return exited;
    },
  };
}

export type LambdaEnvironment = ReturnType<typeof startLambdaEnvironment>;

type EventOptions = {
  body?: string;
  query?: Record<string, string>;
  stage?: string;
  apiId?: string;
  /** What an authorizer allowed `$connect` with: its principalId and context. */
  authorizer?: Record<string, unknown>;
};

/** A WebSocket event as API Gateway sends it to a route's Lambda. */
export function websocketEvent(routeKey: string, connectionId: string, options: EventOptions = {}) {
  const apiId = options.apiId ?? "a1b2c3d4e5";
  const now = Date.now();
  const eventType =
    routeKey === "$connect" ? "CONNECT" : routeKey === "$disconnect" ? "DISCONNECT" : "MESSAGE";
  const domainName = `${apiId}.execute-api.us-east-1.amazonaws.com`;
  const handshake =
    eventType === "CONNECT"
      ? {
          headers: {
            Host: domainName,
            "Sec-WebSocket-Key": randomBytes(16).toString("base64"),
            "Sec-WebSocket-Version": "13",
            "X-Forwarded-For": "203.0.113.7",
            "X-Forwarded-Port": "443",
            "X-Forwarded-Proto": "https",
          },
          queryStringParameters: options.query,
          multiValueQueryStringParameters: options.query
            ? Object.fromEntries(Object.entries(options.query).map(([key, value]) => [key, [value]]))
            : undefined,
        }
      : {};
  return {
    ...handshake,
    requestContext: {
      routeKey,
      eventType,
      messageId: eventType === "MESSAGE" ? `${randomBytes(9).toString("base64url")}=` : undefined,
      extendedRequestId: `${randomBytes(9).toString("base64url")}=`,
      requestTime: new Date(now).toUTCString(),
      messageDirection: "IN",
      stage: options.stage ?? "dev",
      connectedAt: now - 1000,
      requestTimeEpoch: now,
      identity: { sourceIp: "203.0.113.7", userAgent: "wscat/6.1.0" },
      requestId: `${randomBytes(9).toString("base64url")}=`,
      domainName,
      connectionId,
      apiId,
      authorizer: options.authorizer,
    },
    body: options.body,
    isBase64Encoded: false,
  };
}

/** The event of a REQUEST authorizer on `$connect`: the handshake, and the route's method ARN. */
export function authorizerEvent(
  connectionId: string,
  options: Pick<EventOptions, "query" | "stage" | "apiId"> = {},
) {
  const {
    body: _body,
    isBase64Encoded: _base64,
    ...handshake
  } = websocketEvent("$connect", connectionId, options);
  const { apiId, stage } = handshake.requestContext;
  return {
    type: "REQUEST",
    methodArn: `arn:aws:execute-api:us-east-1:123456789012:${apiId}/${stage}/$connect`,
    ...handshake,
    stageVariables: {},
  };
}

/** A 16-character connection id in API Gateway's style, e.g. `L0SM9cOFvHcCIhw=`. */
export const connectionId = () => `${randomBytes(12).toString("base64url").slice(0, 15)}=`;

export type PostedFrame = { connectionId: string; frame: Record<string, unknown> };

/**
 * A loopback stand-in for the Management API: answers 200 to every
 * `POST /@connections/{id}` SigV4-signed with the local keys (the handlers sign
 * with them when pointed at DynamoDB Local), records what was posted, and refuses
 * any other post with API Gateway's 403, as local/management-api.ts does.
 */
export async function startManagementEndpoint() {
  const posts: PostedFrame[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", async () => {
      const body = Buffer.concat(chunks);
      const match = /^\/@connections\/([^/?]+)$/.exec(request.url ?? "");
      if (request.method !== "POST" || !match) {
        response.writeHead(404).end();
        return;
      }
      const refused = await checkSignature(request, body, localAws.credentials);
      if (refused) {
        response.writeHead(403, { "x-amzn-ErrorType": refused.errorType }).end(JSON.stringify(refused));
        return;
      }
      posts.push({ connectionId: decodeURIComponent(match[1]), frame: JSON.parse(body.toString("utf8")) });
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    posts,
    close: () => new Promise<void>((closed) => server.close(() => closed())),
  };
}
