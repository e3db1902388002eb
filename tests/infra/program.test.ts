import { configEnv, defaultConfig } from "../../handlers/config";
import { metricsStackEnv } from "../../handlers/metrics";
import { routes } from "../../handlers/routes";
import { roomSweepIntervalMinutes } from "../../handlers/delivery/room-sweep";
import { roomSweepWorker, workers } from "../../handlers/workers";
import type { FunctionPermissions } from "../../handlers/permissions";
import { keyAttributes, tableDefinition } from "../../model/table";
import { infraDefaults } from "../../infra/defaults";
import { account, region, runProgram, type ProgramRun } from "../support/pulumi-mocks";

// The `dev` stack with no config: every default of infra/config.ts and handlers/config.ts.
let run: ProgramRun;
beforeAll(async () => {
  run = await runProgram("dev", {}, [], { serializeLambdas: false });
}, 300_000);

const T = {
  api: "aws:apigatewayv2/api:Api",
  stage: "aws:apigatewayv2/stage:Stage",
  route: "aws:apigatewayv2/route:Route",
  routeResponse: "aws:apigatewayv2/routeResponse:RouteResponse",
  integration: "aws:apigatewayv2/integration:Integration",
  fn: "aws:lambda/function:Function",
  permission: "aws:lambda/permission:Permission",
  eventRule: "aws:cloudwatch/eventRule:EventRule",
  eventTarget: "aws:cloudwatch/eventTarget:EventTarget",
  mapping: "aws:lambda/eventSourceMapping:EventSourceMapping",
  table: "aws:dynamodb/table:Table",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
};

const api = () => run.ofType(T.api)[0];
const table = () => run.ofType(T.table)[0];
/** The resources behind one route of the route table, followed through ids and ARNs. */
function wiring(routeKey: string) {
  const route = run.ofType(T.route).find((r) => r.inputs.routeKey === routeKey)!;
  const integration = run.ofType(T.integration).find((i) => `integrations/${i.id}` === route.inputs.target)!;
  const fn = run.ofType(T.fn).find((f) => f.state.invokeArn === integration.inputs.integrationUri)!;
  const role = run.ofType(T.role).find((r) => r.state.arn === fn.inputs.role)!;
  const policies = run.ofType(T.rolePolicy).filter((p) => p.inputs.role === role.id);
  return { route, integration, fn, role, policies };
}

describe("WebSocket API", () => {
  // check 1: one WebSocket API, routed on the frame's `action`.
  it("is a WebSocket API with route selection on $request.body.action", () => {
    expect(run.ofType(T.api)).toHaveLength(1);
    expect(api().inputs).toMatchObject({
      protocolType: "WEBSOCKET",
      routeSelectionExpression: "$request.body.action",
    });
  });

  // check 2: every route of handlers/routes.ts, and nothing else, has its own function and integration.
  it("wires every route of the route table to its own function through its own AWS_PROXY integration", () => {
    // The route table itself: the two connection routes, `$default` and the seventeen actions (room administration, edits, deletes and direct messages included).
    expect(routes.map((r) => r.key).sort()).toEqual(
      [
        "$connect",
        "$disconnect",
        "$default",
        "sendmessage",
        "joinroom",
        "leaveroom",
        "listrooms",
        "history",
        "members",
        "resume",
        "session",
        "createroom",
        "invite",
        "revokeinvite",
        "setrole",
        "kick",
        "ban",
        "editmessage",
        "deletemessage",
        "dm",
      ].sort(),
    );
    expect(
      run
        .ofType(T.route)
        .map((r) => r.inputs.routeKey)
        .sort(),
    ).toEqual(routes.map((r) => r.key).sort());
    const functions = new Set<string>();
    for (const route of routes) {
      const { route: apiRoute, integration, fn } = wiring(route.key);
      expect(apiRoute.inputs.apiId).toBe(api().id);
      expect(integration.inputs).toMatchObject({
        apiId: api().id,
        integrationType: "AWS_PROXY",
        integrationMethod: "POST",
      });
      expect(fn.inputs.name).toBe(`roomcast-dev-${route.name}`);
      functions.add(fn.state.arn);
    }
    expect(functions.size).toBe(routes.length);
    expect(run.ofType(T.integration)).toHaveLength(routes.length);
  });

  // check 3: the reply travels back to the sender exactly on routes with a route response.
  it("has a $default route response exactly on the routes whose reply goes back to the sender", () => {
    const responses = run.ofType(T.routeResponse);
    const withResponse = routes.filter((r) => r.routeResponse).map((r) => wiring(r.key).route.id);
    expect(responses.map((r) => r.inputs.routeId).sort()).toEqual(withResponse.sort());
    for (const response of responses)
      expect(response.inputs).toMatchObject({ apiId: api().id, routeResponseKey: "$default" });
    for (const route of routes) {
      expect(wiring(route.key).route.inputs.routeResponseSelectionExpression).toBe(
        route.routeResponse ? "$default" : undefined,
      );
    }
  });

  // check 4: API Gateway may invoke each function, from this API and its route only.
  it("lets only this API's route invoke each function", () => {
    const fromApi = run.ofType(T.permission).filter((p) => p.inputs.principal === "apigateway.amazonaws.com");
    expect(fromApi).toHaveLength(routes.length);
    for (const route of routes) {
      const { fn } = wiring(route.key);
      const permission = run.ofType(T.permission).find((p) => p.inputs.function === fn.state.name)!;
      expect(permission.inputs).toEqual({
        action: "lambda:InvokeFunction",
        function: fn.state.name,
        principal: "apigateway.amazonaws.com",
        sourceArn: `arn:aws:execute-api:${region}:${account}:${api().id}/*/${route.key}`,
      });
    }
  });
});

describe("room sweep", () => {
  // check 4b: the sweep runs on its schedule (handlers/delivery/room-sweep.ts), from EventBridge only.
  it("invokes the sweep function on an EventBridge schedule, which alone may invoke it", () => {
    const fn = run.ofType(T.fn).find((f) => f.inputs.name === "roomcast-dev-sweep")!;
    expect(run.ofType(T.eventRule).map((r) => r.inputs)).toEqual([
      { name: "roomcast-dev-sweep", scheduleExpression: `rate(${roomSweepIntervalMinutes} minutes)` },
    ]);
    const [rule] = run.ofType(T.eventRule);
    expect(run.ofType(T.eventTarget).map((t) => t.inputs)).toEqual([
      { rule: rule.state.name, arn: fn.state.arn },
    ]);
    const fromEvents = run.ofType(T.permission).filter((p) => p.inputs.principal === "events.amazonaws.com");
    expect(fromEvents.map((p) => p.inputs)).toEqual([
      {
        action: "lambda:InvokeFunction",
        function: fn.state.name,
        principal: "events.amazonaws.com",
        sourceArn: rule.state.arn,
      },
    ]);
    // Fed by nothing else, and its role allows what the handler declares and nothing of a source.
    expect(run.ofType(T.mapping).filter((m) => m.inputs.functionName === fn.state.arn)).toEqual([]);
    const role = run.ofType(T.role).find((r) => r.state.arn === fn.inputs.role)!;
    const [policy] = run.ofType(T.rolePolicy).filter((p) => p.inputs.role === role.id);
    const statements = (
      JSON.parse(policy.inputs.policy as string) as { Statement: { Sid: string; Action: string[] }[] }
    ).Statement;
    expect(statements.map((s) => s.Sid)).toEqual(["ChatTable", "OwnLogGroup"]);
    expect(statements[0].Action).toEqual(roomSweepWorker.permissions.table.map((a) => `dynamodb:${a}`));
  });
});

describe("Lambda functions", () => {
  // check 5: Node 22 on arm64 with the default size, the serialized handler and JSON logs to its own group.
  it("run the serialized handler on nodejs22.x arm64, untraced, and log JSON to their own log group", () => {
    for (const route of routes) {
      const { fn } = wiring(route.key);
      expect(fn.inputs).toMatchObject({
        runtime: "nodejs22.x",
        architectures: ["arm64"],
        handler: "__index.handler",
        memorySize: 256,
        timeout: 29,
        loggingConfig: { logFormat: "JSON", logGroup: `/aws/lambda/${fn.inputs.name}` },
      });
      expect(run.ofType(T.logGroup).map((g) => g.inputs.name)).toContain(fn.inputs.loggingConfig.logGroup);
      // Off by default: no X-Ray.
      expect(fn.inputs.tracingConfig).toBeUndefined();
    }
  });

  // check 5b: each function reserves its default share of the account's concurrency (issue 19):
  // a flood of one route or a huge room cannot take the account's Lambda concurrency.
  it("reserve each function's default concurrency, every route and worker included", () => {
    const expected = {
      connect: 100,
      disconnect: 50,
      default: 10,
      sendmessage: 100,
      joinroom: 50,
      leaveroom: 50,
      listrooms: 30,
      history: 50,
      members: 30,
      resume: 50,
      session: 30,
      createroom: 10,
      invite: 10,
      revokeinvite: 10,
      setrole: 10,
      kick: 10,
      ban: 10,
      editmessage: 10,
      deletemessage: 10,
      dm: 10,
      stream: 20,
      fanout: 20,
      sweep: 1,
    };
    // No function left without a default: every route of the table and every worker.
    expect(Object.keys(expected).sort()).toEqual(
      [...routes.map((r) => r.name), ...workers.map((w) => w.name)].sort(),
    );
    expect(infraDefaults.reservedConcurrency).toEqual({ ...expected, authorizer: 50 });
    const reserved = Object.fromEntries(
      run.ofType(T.fn).map((fn) => [fn.inputs.name, fn.inputs.reservedConcurrentExecutions]),
    );
    expect(reserved).toEqual(
      Object.fromEntries(Object.entries(expected).map(([name, value]) => [`roomcast-dev-${name}`, value])),
    );
  });

  // check 6: the variables handlers/config.ts reads, the same for every function.
  it("get TABLE_NAME, the stage's own management endpoint, the queue, one cursor key and every handler setting", () => {
    // One generated key for the stack: a cursor sealed by one container opens in every other.
    expect(run.ofType("random:index/randomPassword:RandomPassword")).toHaveLength(1);
    const [cursorSecret] = run.ofType("random:index/randomPassword:RandomPassword");
    expect(cursorSecret.inputs).toMatchObject({ length: 48, special: false });
    const expected = {
      [configEnv.tableName]: table().state.name,
      // The stage's execute-api endpoint, never one derived from a request (issue 13.7).
      [configEnv.managementEndpoint]: `https://${api().id}.execute-api.${region}.amazonaws.com/dev`,
      [configEnv.fanoutQueueUrl]: `https://sqs.${region}.amazonaws.com/${account}/roomcast-dev-fanout.fifo`,
      [metricsStackEnv]: "dev",
      [configEnv.cursorSecret]: cursorSecret.state.result,
      ...Object.fromEntries(
        Object.entries(defaultConfig).map(([key, value]) => [
          configEnv[key as keyof typeof defaultConfig],
          String(value),
        ]),
      ),
    };
    for (const fn of run.ofType(T.fn)) expect(fn.inputs.environment.variables).toEqual(expected);
  });
});

describe("IAM", () => {
  const tableArn = () => table().state.arn;
  /** DELETE on this API's `dev` stage only: how a flooding connection is closed. */
  const closeConnectionsArn = () =>
    `arn:aws:execute-api:${region}:${account}:${api().id}/dev/DELETE/@connections/*`;
  const statementsOf = (key: string) =>
    JSON.parse(wiring(key).policies[0].inputs.policy).Statement as {
      Sid: string;
      Action: string[];
      Resource: string | string[];
    }[];
  /** The statements a route's declared permissions should become, and nothing more. */
  const expectedStatements = (permissions: FunctionPermissions, logGroupArn: string) => [
    ...(permissions.table.length > 0
      ? [
          {
            Sid: "ChatTable",
            Effect: "Allow",
            Action: permissions.table.map((action) => `dynamodb:${action}`),
            // model/table.ts has no index: no `/index/...` resource.
            Resource: [tableArn()],
          },
        ]
      : []),
    ...(permissions.post
      ? [
          {
            Sid: "PostToConnections",
            Effect: "Allow",
            Action: ["execute-api:ManageConnections"],
            Resource: `arn:aws:execute-api:${region}:${account}:${api().id}/dev/POST/@connections/*`,
          },
        ]
      : []),
    ...(permissions.disconnect
      ? [
          {
            Sid: "CloseConnections",
            Effect: "Allow",
            Action: ["execute-api:ManageConnections"],
            Resource: closeConnectionsArn(),
          },
        ]
      : []),
    ...(permissions.queue
      ? [
          {
            Sid: "SendFanoutJobs",
            Effect: "Allow",
            Action: ["sqs:SendMessage"],
            Resource: `arn:aws:sqs:${region}:${account}:roomcast-dev-fanout.fifo`,
          },
        ]
      : []),
    {
      Sid: "OwnLogGroup",
      Effect: "Allow",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: `${logGroupArn}:*`,
    },
  ];
  const declared = (key: string) =>
    (routes.find((r) => r.key === key) as unknown as { permissions: FunctionPermissions }).permissions;

  // check 7: a role per function, assumable by Lambda only, with exactly the statements its route declares.
  it("gives each route function its own role with exactly the permissions its handler declares", () => {
    for (const route of routes) {
      const { fn, role, policies } = wiring(route.key);
      expect(JSON.parse(role.inputs.assumeRolePolicy).Statement).toEqual([
        { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
      ]);
      expect(policies).toHaveLength(1);
      const ownLogGroup = run
        .ofType(T.logGroup)
        .find((g) => g.inputs.name === fn.inputs.loggingConfig.logGroup)!;
      expect(JSON.parse(policies[0].inputs.policy).Statement).toEqual(
        expectedStatements(declared(route.key), ownLogGroup.state.arn),
      );
    }
    const lambdaRoles = run
      .ofType(T.role)
      .filter(
        (r) =>
          JSON.parse(r.inputs.assumeRolePolicy).Statement[0].Principal.Service === "lambda.amazonaws.com",
      );
    expect(lambdaRoles).toHaveLength(routes.length + workers.length);
  });

  // check 8: the read-only routes touch the table only to read and to take rate-limit tokens
  // (GetItem/UpdateItem on their bucket items, issue 19), post to no one and send no job; $default
  // (junk) uses an in-container bucket only, so it has no table action at all.
  it("lets history, members, listrooms and $default write nothing but rate-limit buckets, post to no one and queue nothing", () => {
    const writes = [
      "PutItem",
      "DeleteItem",
      "BatchWriteItem",
      "TransactWriteItems",
      "ConditionCheckItem",
    ].map((a) => `dynamodb:${a}`);
    const tableActions: Record<string, string[]> = {
      history: ["GetItem", "Query", "UpdateItem"],
      members: ["GetItem", "Query", "UpdateItem"],
      listrooms: ["GetItem", "Query", "UpdateItem", "BatchGetItem"],
      $default: [],
    };
    for (const [key, expected] of Object.entries(tableActions)) {
      const statements = statementsOf(key);
      const actions = statements.flatMap((s) => s.Action);
      expect(actions.filter((action) => writes.includes(action))).toEqual([]);
      expect(actions.filter((action) => action.startsWith("dynamodb:")).sort()).toEqual(
        expected.map((a) => `dynamodb:${a}`).sort(),
      );
      expect(statements.map((s) => s.Sid)).not.toContain("PostToConnections");
      expect(actions).not.toContain("sqs:SendMessage");
      // ManageConnections only to close (DELETE), never to post.
      for (const statement of statements.filter((s) => s.Action.includes("execute-api:ManageConnections")))
        expect(statement.Resource).toBe(closeConnectionsArn());
    }
  });

  // check 8b: a connection that keeps exceeding its limits is closed through the Management API
  // DELETE: every action route and $default may do that, on this API's stage only; $connect and
  // $disconnect (no frames to limit) may not.
  it("lets every action route and $default close connections with DELETE on this stage only", () => {
    for (const route of routes) {
      const close = statementsOf(route.key).filter((s) => s.Sid === "CloseConnections");
      if (route.key === "$connect" || route.key === "$disconnect") {
        expect(close).toEqual([]);
        continue;
      }
      expect(close).toEqual([
        {
          Sid: "CloseConnections",
          Effect: "Allow",
          Action: ["execute-api:ManageConnections"],
          Resource: closeConnectionsArn(),
        },
      ]);
      // And the rate-limit buckets the action routes take tokens from.
      if (route.key !== "$default") {
        const tableActions = statementsOf(route.key).find((s) => s.Sid === "ChatTable")!.Action;
        expect(tableActions).toEqual(expect.arrayContaining(["dynamodb:GetItem", "dynamodb:UpdateItem"]));
      }
    }
    // No statement anywhere reaches another stage's or another API's connections.
    const manage = run
      .ofType(T.rolePolicy)
      .flatMap((p) => JSON.parse(p.inputs.policy).Statement)
      .filter((s: { Action: string[] }) => [s.Action].flat().includes("execute-api:ManageConnections"));
    for (const statement of manage)
      expect(statement.Resource).toMatch(
        new RegExp(
          `^arn:aws:execute-api:${region}:${account}:${api().id}/dev/(POST|DELETE)/@connections/\\*$`,
        ),
      );
  });

  // check 9: nothing broad: no `*` resource (but the account-wide API Gateway logs role's own log groups), no managed policy.
  it("grants no `*` resource, no wildcard action and attaches no managed policy", () => {
    const logsRole = run.named(T.role, "roomcast-apigateway-logs");
    const statements = run
      .ofType(T.rolePolicy)
      .filter((p) => p.inputs.role !== logsRole.id)
      .flatMap((p) => JSON.parse(p.inputs.policy).Statement);
    for (const statement of statements) {
      for (const resource of [statement.Resource].flat())
        expect(resource).toMatch(/^arn:aws:[a-z-]+:us-east-1:123456789012:[^*]/);
      for (const action of [statement.Action].flat()) expect(action).not.toContain("*");
    }
    expect(run.ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")).toEqual([]);
    for (const role of run.ofType(T.role)) expect(role.inputs.managedPolicyArns).toBeUndefined();
  });

  // check 10: a fresh account's first `pulumi up` works: API Gateway's logs role is set by default, kept on destroy.
  it("sets API Gateway's account-wide logs role by default, scoped to this account and region", () => {
    const [accountSettings] = run.ofType("aws:apigateway/account:Account");
    const role = run.named(T.role, "roomcast-apigateway-logs");
    const policy = run.named(T.rolePolicy, "roomcast-apigateway-logs");
    expect(accountSettings.inputs.cloudwatchRoleArn).toBe(role.state.arn);
    expect(JSON.parse(role.inputs.assumeRolePolicy).Statement[0].Principal).toEqual({
      Service: "apigateway.amazonaws.com",
    });
    expect(policy.inputs.role).toBe(role.id);
    const [statement] = JSON.parse(policy.inputs.policy).Statement;
    expect(statement.Resource).toBe(`arn:aws:logs:${region}:${account}:*`);
    expect(statement.Action).toContain("logs:PutLogEvents");
  });
});

describe("DynamoDB table", () => {
  // check 11: keys, indexes (none), TTL and stream come from model/table.ts.
  it("has the keys, TTL and stream of tableDefinition, on demand, and no index", () => {
    const def = tableDefinition;
    expect(table().inputs).toMatchObject({
      billingMode: "PAY_PER_REQUEST",
      hashKey: def.partitionKey,
      rangeKey: def.sortKey,
      ttl: { attributeName: def.ttlAttribute, enabled: true },
    });
    expect(table().inputs.attributes).toEqual(keyAttributes().map((name) => ({ name, type: "S" })));
    expect(def.globalIndexes).toEqual([]);
    expect(table().inputs.globalSecondaryIndexes ?? []).toEqual([]);
    // The outbox the stream worker reads.
    expect(table().inputs).toMatchObject({ streamEnabled: true, streamViewType: "NEW_AND_OLD_IMAGES" });
    expect(def.stream.viewType).toBe("NEW_AND_OLD_IMAGES");
  });

  // check 12: dev is throwaway: no point-in-time recovery, no deletion protection.
  it("has no point-in-time recovery or deletion protection on the dev stack", () => {
    expect(table().inputs.pointInTimeRecovery).toEqual({ enabled: false });
    expect(table().inputs.deletionProtectionEnabled).toBe(false);
  });
});

describe("stage and logs", () => {
  // check 13: the stage is named after the stack, deploys itself, throttles each route (with a
  // small bucket of $default's own, issue 19) and logs access as JSON.
  it("is an auto-deployed stage named after the stack with per-route throttling, a low $default limit and JSON access logs", () => {
    const [stage] = run.ofType(T.stage);
    const accessLog = run
      .ofType(T.logGroup)
      .find((g) => g.state.arn === stage.inputs.accessLogSettings.destinationArn)!;
    expect(stage.inputs).toMatchObject({
      apiId: api().id,
      name: "dev",
      autoDeploy: true,
      // Each route's own bucket (docs/operations.md has the arithmetic).
      defaultRouteSettings: { throttlingRateLimit: 500, throttlingBurstLimit: 1000 },
    });
    // Junk frames get a bucket of their own, so a junk flood cannot starve sendmessage.
    expect(stage.inputs.routeSettings).toEqual([
      { routeKey: "$default", throttlingRateLimit: 10, throttlingBurstLimit: 20 },
    ]);
    expect(run.ofType(T.route).map((r) => r.inputs.routeKey)).toContain("$default");
    expect(accessLog.inputs.name).toBe("/aws/apigateway/roomcast-dev/access");
    expect(JSON.parse(stage.inputs.accessLogSettings.format)).toMatchObject({
      requestId: "$context.requestId",
      routeKey: "$context.routeKey",
      connectionId: "$context.connectionId",
      status: "$context.status",
    });
  });

  // check 14: every log group (routes, workers and access log) keeps 14 days by default.
  it("keeps every log group for the default 14 days", () => {
    const groups = run.ofType(T.logGroup);
    expect(groups).toHaveLength(routes.length + workers.length + 1);
    for (const group of groups) expect(group.inputs.retentionInDays).toBe(14);
  });
});

describe("stack outputs", () => {
  // check 15: what a user pastes into wscat, where the Management API is reached, the dashboard,
  // and the queues a replay of the stream's dead letters reads and writes.
  it("are the wss:// URL, a wscat command, the table name, the management endpoint, the dashboard and the replay's queues", () => {
    const apiId = api().id;
    expect(apiId).toMatch(/^[a-z0-9]{10}$/);
    expect(run.outputs).toEqual({
      url: `wss://${apiId}.execute-api.${region}.amazonaws.com/dev`,
      wscat: `wscat -c wss://${apiId}.execute-api.${region}.amazonaws.com/dev`,
      tableName: table().state.name,
      managementEndpoint: `https://${apiId}.execute-api.${region}.amazonaws.com/dev`,
      dashboardUrl: `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards/dashboard/roomcast-dev`,
      fanoutQueueUrl: `https://sqs.${region}.amazonaws.com/${account}/roomcast-dev-fanout.fifo`,
      streamDeadLetterQueueUrl: `https://sqs.${region}.amazonaws.com/${account}/roomcast-dev-stream-dlq`,
    });
  });
});

describe("authentication", () => {
  // check 16: without an authSecret, connections are anonymous: no authorizer and nothing behind one.
  it("has no authorizer and leaves $connect open on a stack without authSecret", () => {
    expect(run.ofType("aws:apigatewayv2/authorizer:Authorizer")).toEqual([]);
    expect(run.ofType(T.fn).map((f) => f.inputs.name)).not.toContain("roomcast-dev-authorizer");
    const { route } = wiring("$connect");
    expect(route.inputs.authorizationType ?? "NONE").toBe("NONE");
    expect(route.inputs.authorizerId).toBeUndefined();
  });
});
