import { createHash } from "node:crypto";
import type * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export const account = "123456789012";
export const region = "us-east-1";

/** Resource properties as the engine sees them: untyped, nested JSON (and assets) that tests read freely. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Properties = Record<string, any>;

/** A resource the program registered: its inputs as the engine would receive them, and the mocked state. */
export type MockedResource = {
  type: string;
  name: string;
  id: string;
  inputs: Properties;
  state: Properties;
  /** `<provider urn>::<provider id>` of the provider it was registered with, if any. */
  provider?: string;
};

/** Deterministic stand-ins for AWS's generated ids: Pulumi's 7-hex auto-name suffix, API ids. */
const hash = (seed: string) => createHash("sha1").update(seed).digest("hex");
const autoName = (name: string) => `${name}-${hash(name).slice(0, 7)}`;
const shortId = (name: string, length: number) =>
  BigInt(`0x${hash(name)}`)
    .toString(36)
    .slice(0, length);

/** Outputs AWS computes for each resource type the program creates, with realistic ARNs. */
function mockState(type: string, name: string, inputs: Properties): { id: string; state: Properties } {
  switch (type) {
    case "aws:dynamodb/table:Table": {
      const tableName = inputs.name ?? autoName(name);
      const arn = `arn:aws:dynamodb:${region}:${account}:table/${tableName}`;
      return {
        id: tableName,
        state: {
          name: tableName,
          arn,
          ...(inputs.streamEnabled
            ? { streamArn: `${arn}/stream/2030-01-01T00:00:00.000`, streamLabel: "2030-01-01T00:00:00.000" }
            : {}),
        },
      };
    }
    case "random:index/randomPassword:RandomPassword":
      return { id: name, state: { result: hash(`${name}/password`).slice(0, inputs.length ?? 16) } };
    case "aws:sqs/queue:Queue": {
      const queueName = inputs.name ?? autoName(name);
      return {
        id: `https://sqs.${region}.amazonaws.com/${account}/${queueName}`,
        state: {
          name: queueName,
          arn: `arn:aws:sqs:${region}:${account}:${queueName}`,
          url: `https://sqs.${region}.amazonaws.com/${account}/${queueName}`,
        },
      };
    }
    case "aws:lambda/eventSourceMapping:EventSourceMapping": {
      const uuid = [8, 4, 4, 4, 12].map((n, i) => hash(`${name}/${i}`).slice(0, n)).join("-");
      return {
        id: uuid,
        state: { uuid, arn: `arn:aws:lambda:${region}:${account}:event-source-mapping:${uuid}` },
      };
    }
    case "aws:sns/topic:Topic": {
      const topicName = inputs.name ?? autoName(name);
      const arn = `arn:aws:sns:${region}:${account}:${topicName}`;
      return { id: arn, state: { name: topicName, arn } };
    }
    case "aws:sns/topicSubscription:TopicSubscription": {
      const arn = `${inputs.topic}:${[8, 4, 4, 4, 12].map((n, i) => hash(`${name}/${i}`).slice(0, n)).join("-")}`;
      return { id: arn, state: { arn } };
    }
    case "aws:cloudwatch/metricAlarm:MetricAlarm":
      return {
        id: inputs.name,
        state: { arn: `arn:aws:cloudwatch:${region}:${account}:alarm:${inputs.name}` },
      };
    case "aws:cloudwatch/dashboard:Dashboard":
      return {
        id: inputs.dashboardName,
        state: { dashboardArn: `arn:aws:cloudwatch::${account}:dashboard/${inputs.dashboardName}` },
      };
    case "aws:apigatewayv2/domainName:DomainName":
      return {
        id: inputs.domainName,
        state: {
          arn: `arn:aws:apigateway:${region}::/domainnames/${inputs.domainName}`,
          domainNameConfiguration: {
            ...inputs.domainNameConfiguration,
            // What AWS answers for a REGIONAL domain in us-east-1.
            targetDomainName: `d-${shortId(inputs.domainName, 10)}.execute-api.${region}.amazonaws.com`,
            hostedZoneId: "Z1UJRXOUMOOFQ8",
          },
        },
      };
    case "aws:apigatewayv2/apiMapping:ApiMapping":
      return { id: shortId(`${type}/${name}`, 6), state: {} };
    case "aws:route53/record:Record":
      return { id: `${inputs.zoneId}_${inputs.name}_${inputs.type}`, state: { fqdn: inputs.name } };
    case "aws:apigatewayv2/api:Api": {
      const apiId = shortId(name, 10);
      return {
        id: apiId,
        state: {
          arn: `arn:aws:apigateway:${region}::/apis/${apiId}`,
          apiEndpoint: `wss://${apiId}.execute-api.${region}.amazonaws.com`,
          executionArn: `arn:aws:execute-api:${region}:${account}:${apiId}`,
        },
      };
    }
    case "aws:apigatewayv2/stage:Stage":
      return {
        id: inputs.name,
        state: {
          arn: `arn:aws:apigateway:${region}::/apis/${inputs.apiId}/stages/${inputs.name}`,
          invokeUrl: `wss://${inputs.apiId}.execute-api.${region}.amazonaws.com/${inputs.name}`,
          executionArn: `arn:aws:execute-api:${region}:${account}:${inputs.apiId}/${inputs.name}`,
        },
      };
    case "aws:apigatewayv2/integration:Integration":
    case "aws:apigatewayv2/route:Route":
    case "aws:apigatewayv2/routeResponse:RouteResponse":
      return { id: shortId(`${type}/${name}`, 7), state: {} };
    case "aws:apigatewayv2/authorizer:Authorizer":
      return { id: shortId(`${type}/${name}`, 6), state: {} };
    case "aws:lambda/function:Function": {
      const functionName = inputs.name ?? autoName(name);
      const arn = `arn:aws:lambda:${region}:${account}:function:${functionName}`;
      return {
        id: functionName,
        state: {
          name: functionName,
          arn,
          qualifiedArn: `${arn}:$LATEST`,
          invokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${arn}/invocations`,
          version: "$LATEST",
        },
      };
    }
    case "aws:lambda/permission:Permission":
      return { id: autoName(name), state: { statementId: autoName(name) } };
    case "aws:cloudwatch/logGroup:LogGroup": {
      const groupName = inputs.name ?? autoName(name);
      return {
        id: groupName,
        state: { name: groupName, arn: `arn:aws:logs:${region}:${account}:log-group:${groupName}` },
      };
    }
    case "aws:iam/role:Role": {
      const roleName = inputs.name ?? autoName(name);
      return {
        id: roleName,
        state: {
          name: roleName,
          arn: `arn:aws:iam::${account}:role/${roleName}`,
          uniqueId: `AROA${hash(name).slice(0, 17).toUpperCase()}`,
        },
      };
    }
    case "aws:iam/rolePolicy:RolePolicy":
      return { id: `${inputs.role}:${autoName(name)}`, state: { name: autoName(name) } };
    case "aws:apigateway/account:Account":
      return { id: "api-gateway-account", state: {} };
    case "aws:cloudwatch/eventRule:EventRule": {
      const ruleName = inputs.name ?? autoName(name);
      return {
        id: ruleName,
        state: { name: ruleName, arn: `arn:aws:events:${region}:${account}:rule/${ruleName}` },
      };
    }
    case "aws:cloudwatch/eventTarget:EventTarget":
      return { id: `${inputs.rule}-${autoName(name)}`, state: { targetId: autoName(name) } };
    default:
      // A component resource (roomcast:index:...) or a type the program does not use yet.
      return { id: `${name}-id`, state: {} };
  }
}

const calls: Record<string, Record<string, unknown>> = {
  "aws:index/getCallerIdentity:getCallerIdentity": {
    id: account,
    accountId: account,
    arn: `arn:aws:iam::${account}:user/deployer`,
    userId: "AIDAJQABLZS4A3QDU576Q",
  },
  "aws:index/getRegion:getRegion": {
    id: region,
    region,
    name: region,
    endpoint: `ec2.${region}.amazonaws.com`,
    description: "US East (N. Virginia)",
  },
  "aws:index/getPartition:getPartition": {
    id: "aws",
    partition: "aws",
    dnsSuffix: "amazonaws.com",
    reverseDnsPrefix: "com.amazonaws",
  },
};

/** Mocks that answer like AWS and record every resource the program registers. */
function awsMocks() {
  const resources: MockedResource[] = [];
  const mocks: pulumi.runtime.Mocks = {
    newResource({ type, name, inputs, provider }) {
      const { id, state } = mockState(type, name, inputs);
      const full = { ...inputs, ...state };
      resources.push({ type, name, id, inputs, state: full, provider });
      return { id, state: full };
    },
    call({ token }) {
      const result = calls[token];
      if (!result) throw new Error(`unmocked call ${token}`);
      return result;
    },
  };
  return { mocks, resources };
}

/** The value of an Output, once known. */
function resolve<T>(output: pulumi.Input<T>): Promise<T> {
  return new Promise((done) => pulumi.output(output).apply((value) => done(value as T)));
}

/** The index.ts stack outputs. */
type StackOutputs = {
  url: string;
  wscat: string;
  tableName: string;
  managementEndpoint: string;
  dashboardUrl: string;
  fanoutQueueUrl: string;
  streamDeadLetterQueueUrl: string;
};

export type ProgramOptions = {
  /**
   * Serialize each Lambda's code as `pulumi up` does (the default). A file that never reads
   * a function's `code` passes false: Pulumi's walk of the closures and of the package tree is
   * most of a run, and tests/lambda/* serializes, unpacks and runs every function anyway.
   * A list of physical function names serializes those only; the others get a stub's code.
   */
  serializeLambdas?: boolean | readonly string[];
};

/**
 * Runs the Pulumi program (index.ts) under mocks, as stack `stack` with the given
 * `roomcast:` config (those in `secrets` set as `pulumi config set --secret` would),
 * and returns its outputs and every resource it registered.
 * The program is imported only now, after the mocks and the config are in place.
 *
 * @example
 * const run = await runProgram("dev", { authSecret: "..." }, ["authSecret"]);
 */
export async function runProgram(
  stack: string,
  config: Record<string, string> = {},
  secrets: string[] = [],
  options: ProgramOptions = {},
) {
  const { serializeLambdas = true } = options;
  const restores = [
    plainStackTraces(),
    ...(serializeLambdas === false
      ? [skipLambdaSerialization()]
      : [walkPackagesOnce(), plainRequireCacheForClosures()]),
    ...(Array.isArray(serializeLambdas) ? [stubFunctionsOtherThan(serializeLambdas)] : []),
  ];
  try {
    return await runMockedProgram(stack, config, secrets);
  } finally {
    for (const restore of restores) restore();
  }
}

/** Each CallbackFunction gets a placeholder `__index.js` and no packages; returns the undo. */
function skipLambdaSerialization(): () => void {
  const serialize = jest
    .spyOn(pulumi.runtime, "serializeFunction")
    .mockImplementation(async (_func, args) => ({
      text: "// not serialized (tests/support/pulumi-mocks.ts)",
      exportName: args?.exportName ?? "handler",
      containsSecrets: false,
    }));
  const codePaths = jest.spyOn(pulumi.runtime, "computeCodePaths").mockResolvedValue(new Map());
  return () => {
    serialize.mockRestore();
    codePaths.mockRestore();
  };
}

/** What a function left out of serialization runs: nothing to capture, so Pulumi's walk of it is short. */
const stubFactory = () => () => {
  throw new Error("this function's code was not serialized (tests/support/pulumi-mocks.ts)");
};

/**
 * CallbackFunctions not named in `functionNames` get `stubFactory` as their code, so Pulumi
 * serializes only the named ones. Their constructor is where serialization starts, and the only
 * place that knows the function's name. Returns the undo.
 */
function stubFunctionsOtherThan(functionNames: readonly string[]): () => void {
  // The module behind aws.lambda.CallbackFunction, which reads its export anew on each use.
  const mixins = jest.requireActual<typeof aws.lambda>("@pulumi/aws/lambda/lambdaMixins");
  const { CallbackFunction } = mixins;
  mixins.CallbackFunction = class<E, R> extends CallbackFunction<E, R> {
    constructor(
      name: string,
      args: aws.lambda.CallbackFunctionArgs<E, R>,
      opts?: pulumi.CustomResourceOptions,
    ) {
      const serialized = typeof args.name === "string" && functionNames.includes(args.name);
      super(name, serialized ? args : { ...args, callback: undefined, callbackFactory: stubFactory }, opts);
    }
  };
  return () => {
    mixins.CallbackFunction = CallbackFunction;
  };
}

/**
 * Every CallbackFunction asks `computeCodePaths` for the same package tree; Pulumi walks it
 * anew each time (a third of a serializing run here). Within one run the answer cannot
 * change, so each distinct request walks once. Returns the undo.
 */
function walkPackagesOnce(): () => void {
  const walk = pulumi.runtime.computeCodePaths as (
    options?: pulumi.runtime.CodePathOptions,
  ) => ReturnType<typeof pulumi.runtime.computeCodePaths>;
  const walks = new Map<string, ReturnType<typeof walk>>();
  const codePaths = jest
    .spyOn(pulumi.runtime, "computeCodePaths")
    .mockImplementation((options?: pulumi.runtime.CodePathOptions | string[]) => {
      if (Array.isArray(options)) throw new Error("computeCodePaths: only the options overload is expected");
      const { extraIncludePaths, extraIncludePackages, extraExcludePackages } = options ?? {};
      const key = JSON.stringify([extraIncludePaths, extraIncludePackages, extraExcludePackages]);
      if (!walks.has(key)) walks.set(key, walk(options));
      return walks.get(key)!;
    });
  return () => codePaths.mockRestore();
}

/**
 * Pulumi looks every captured object up in `require.cache`, scanning all of it each time
 * (createClosure's `findNormalizedModuleNameAsync`). Under jest that cache is a proxy over the
 * module registry, and those scans took most of a serializing run (a CPU profile of one). Pulumi's
 * closure module gets a plain copy instead, taken again as each function's serialization starts,
 * so it holds every module loaded by then. Returns the undo.
 */
function plainRequireCacheForClosures(): () => void {
  const registry = require.cache;
  const closureModule = registry[require.resolve("@pulumi/pulumi/runtime/closure/createClosure")];
  if (!closureModule) throw new Error("@pulumi/pulumi's closure module is not loaded");
  const closureRequire = closureModule.require as NodeJS.Require;
  const copy = () => Object.fromEntries(Object.keys(registry).map((path) => [path, registry[path]]));
  const serialize = pulumi.runtime.serializeFunction;
  const spy = jest.spyOn(pulumi.runtime, "serializeFunction").mockImplementation((...args) => {
    closureRequire.cache = copy();
    return serialize(...args);
  });
  return () => {
    spy.mockRestore();
    closureRequire.cache = registry;
  };
}

/**
 * Pulumi stamps a stack trace on each of its promises (debuggable.js), thousands in a run, and
 * jest source-maps every frame of each. While the program runs, stacks keep V8's plain
 * format (positions in the transpiled code) and Node's default depth of 10 frames (jest's 100
 * made capturing and formatting them a sixth of an unserialized run). Returns the undo.
 */
function plainStackTraces(): () => void {
  const { prepareStackTrace, stackTraceLimit } = Error;
  // Set here, in the test's realm: left undefined, Node falls back to jest's own formatter.
  Error.prepareStackTrace = (error, frames) =>
    [String(error), ...frames.map((frame) => `    at ${frame}`)].join("\n");
  Error.stackTraceLimit = 10;
  return () => {
    Error.prepareStackTrace = prepareStackTrace;
    Error.stackTraceLimit = stackTraceLimit;
  };
}

async function runMockedProgram(stack: string, config: Record<string, string>, secrets: string[]) {
  const { mocks, resources } = awsMocks();
  await pulumi.runtime.setMocks(mocks, "roomcast", stack, false);
  pulumi.runtime.setAllConfig(
    {
      "aws:region": region,
      ...Object.fromEntries(Object.entries(config).map(([key, value]) => [`roomcast:${key}`, value])),
    },
    secrets.map((key) => `roomcast:${key}`),
  );
  const program = await import("../../index");
  const outputs: StackOutputs = {
    url: await resolve(program.url),
    wscat: await resolve(program.wscat),
    tableName: await resolve(program.tableName),
    managementEndpoint: await resolve(program.managementEndpoint),
    dashboardUrl: await resolve(program.dashboardUrl),
    fanoutQueueUrl: await resolve(program.fanoutQueueUrl),
    streamDeadLetterQueueUrl: await resolve(program.streamDeadLetterQueueUrl),
  };
  // Lambdas register once their code is serialized: let every registration finish, as the program's end does.
  await pulumi.runtime.disconnect();
  const ofType = (type: string) => resources.filter((r) => r.type === type);
  const named = (type: string, name: string) => {
    const found = ofType(type).find((r) => r.name === name);
    if (!found) throw new Error(`no ${type} named ${name}`);
    return found;
  };
  return { outputs, resources, ofType, named };
}

export type ProgramRun = Awaited<ReturnType<typeof runProgram>>;
