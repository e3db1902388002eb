import { routes } from "../../handlers/routes";
import { countMetrics, latencyMetrics } from "../../handlers/metrics";
import { deliveryHealthThresholds, iteratorAgeThresholdMs, queueDepthThreshold } from "../../infra/alarms";
import { deliveryHealthMetrics } from "../../infra/dashboard";
import { infraDefaults } from "../../infra/defaults";
import { account, region, runProgram, type MockedResource, type ProgramRun } from "../support/pulumi-mocks";

// A production-like stack: alarms mailed, tagged, traced, reserved concurrency overridden (and one
// function unreserved with -1), a custom domain in a Route 53 zone.
const certificateArn = `arn:aws:acm:${region}:${account}:certificate/0f6b2c8e-4a1d-4c55-9d1e-3b7a8f2e6c41`;
const opsConfig = {
  alarmEmail: "oncall@example.com",
  tags: JSON.stringify({ team: "chat", costCenter: "cc-42" }),
  tracing: "true",
  reservedConcurrency: JSON.stringify({ sendmessage: 50, fanout: 32, members: -1 }),
  domainName: "chat.example.com",
  certificateArn,
  hostedZoneId: "Z0123456789ABCDEFGHIJ",
};

let run: ProgramRun;
// The mocked program took about 250 s on a 2-core machine shared with other work (120 s timed out).
beforeAll(async () => {
  run = await runProgram("ops", opsConfig, [], { serializeLambdas: false });
}, 600_000);

const T = {
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  topic: "aws:sns/topic:Topic",
  subscription: "aws:sns/topicSubscription:TopicSubscription",
  dashboard: "aws:cloudwatch/dashboard:Dashboard",
  fn: "aws:lambda/function:Function",
  api: "aws:apigatewayv2/api:Api",
  table: "aws:dynamodb/table:Table",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  queue: "aws:sqs/queue:Queue",
};
const functionNames = [...routes.map((r) => r.name), "stream", "fanout", "sweep"];
const timeouts: Record<string, number> = { stream: 60, fanout: 60, sweep: 60 };
const alarm = (suffix: string) =>
  run.ofType(T.alarm).find((a) => a.inputs.name === `roomcast-ops-${suffix}`)!;
const topicArn = `arn:aws:sns:${region}:${account}:roomcast-ops-alarms`;
const apiId = () => run.ofType(T.api)[0].id;
const tableName = () => run.ofType(T.table)[0].state.name;
/** The queues of work in flight: every queue but the dead-letter ones. */
const workQueueNames = () =>
  run
    .ofType(T.queue)
    .map((q) => q.inputs.name as string)
    .filter((name) => !/-dlq(\.fifo)?$/.test(name));
const notifies = { alarmActions: [topicArn], okActions: [topicArn], treatMissingData: "notBreaching" };

describe("alarms", () => {
  // check 1: one topic, the configured address subscribed by email.
  it("notify one SNS topic, to which alarmEmail is subscribed", () => {
    expect(run.ofType(T.topic).map((t) => t.inputs)).toEqual([{ name: "roomcast-ops-alarms" }]);
    expect(run.ofType(T.subscription).map((s) => s.inputs)).toEqual([
      { topic: topicArn, protocol: "email", endpoint: "oncall@example.com" },
    ]);
  });

  // check 2: errors, throttles and p99 duration above 80% of the timeout, for every function.
  it.each(functionNames)("watch %s: errors, throttles, duration p99 near its timeout", (name) => {
    const dimensions = { FunctionName: `roomcast-ops-${name}` };
    const lambda = { namespace: "AWS/Lambda", period: 300, evaluationPeriods: 1, dimensions, ...notifies };
    expect(alarm(`${name}-errors`).inputs).toMatchObject({
      ...lambda,
      metricName: "Errors",
      statistic: "Sum",
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
    });
    expect(alarm(`${name}-throttles`).inputs).toMatchObject({
      ...lambda,
      metricName: "Throttles",
      statistic: "Sum",
      threshold: 0,
    });
    expect(alarm(`${name}-duration`).inputs).toMatchObject({
      ...lambda,
      metricName: "Duration",
      extendedStatistic: "p99",
      threshold: 0.8 * (timeouts[name] ?? 29) * 1000,
    });
  });

  // check 3: the stage: integration and execution errors at once, client errors (throttled messages) above 100.
  it("watch the stage's integration, execution and client errors", () => {
    const dimensions = { ApiId: apiId(), Stage: "ops" };
    const stage = { namespace: "AWS/ApiGateway", statistic: "Sum", period: 300, dimensions, ...notifies };
    expect(alarm("api-integration-errors").inputs).toMatchObject({
      ...stage,
      metricName: "IntegrationError",
      threshold: 0,
    });
    expect(alarm("api-execution-errors").inputs).toMatchObject({
      ...stage,
      metricName: "ExecutionError",
      threshold: 0,
    });
    expect(alarm("api-client-errors").inputs).toMatchObject({
      ...stage,
      metricName: "ClientError",
      threshold: 100,
    });
  });

  // check 4: the table: read+write throttle events, and SystemErrors summed over every operation roomcast uses.
  it("watch the table's throttles and system errors", () => {
    const throttles = alarm("table-throttles").inputs;
    expect(throttles).toMatchObject({ threshold: 0, ...notifies });
    expect(throttles.metricQueries).toEqual([
      {
        id: "reads",
        metric: {
          namespace: "AWS/DynamoDB",
          metricName: "ReadThrottleEvents",
          period: 300,
          stat: "Sum",
          dimensions: { TableName: tableName() },
        },
      },
      {
        id: "writes",
        metric: {
          namespace: "AWS/DynamoDB",
          metricName: "WriteThrottleEvents",
          period: 300,
          stat: "Sum",
          dimensions: { TableName: tableName() },
        },
      },
      {
        id: "throttled",
        expression: "FILL(reads, 0) + FILL(writes, 0)",
        label: "Throttled",
        returnData: true,
      },
    ]);
    const systemErrors = alarm("table-system-errors").inputs.metricQueries;
    expect(systemErrors.at(-1)).toEqual({
      id: "errors",
      expression: "SUM(FILL(METRICS(), 0))",
      label: "SystemErrors",
      returnData: true,
    });
    expect(
      systemErrors.slice(0, -1).map((q: { metric: { dimensions: object } }) => q.metric.dimensions),
    ).toEqual(
      ["GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"].map(
        (Operation) => ({ TableName: tableName(), Operation }),
      ),
    );
  });

  // check 5: either dead-letter queue holding a message alarms.
  it("watch both dead-letter queues for any visible message", () => {
    for (const [suffix, queueName] of [
      ["fanout-dlq", "roomcast-ops-fanout-dlq.fifo"],
      ["stream-dlq", "roomcast-ops-stream-dlq"],
    ]) {
      expect(alarm(`${suffix}-not-empty`).inputs).toMatchObject({
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        statistic: "Maximum",
        dimensions: { QueueName: queueName },
        threshold: 0,
        ...notifies,
      });
    }
  });

  // check 6: roomcast's own FailedPosts, above 50 in 5 minutes.
  it("watch FailedPosts in the roomcast namespace above a rate", () => {
    expect(alarm("failed-posts").inputs).toMatchObject({
      namespace: "roomcast",
      metricName: "FailedPosts",
      statistic: "Sum",
      period: 300,
      dimensions: { service: "roomcast", stack: "ops" },
      threshold: 50,
      ...notifies,
    });
  });

  // check 7: the stream's IteratorAge: delivery a minute behind the writes.
  it("watch the stream worker's IteratorAge", () => {
    expect(alarm("stream-iterator-age").inputs).toMatchObject({
      namespace: "AWS/Lambda",
      metricName: "IteratorAge",
      statistic: "Maximum",
      period: 300,
      dimensions: { FunctionName: "roomcast-ops-stream" },
      threshold: iteratorAgeThresholdMs,
      ...notifies,
    });
    expect(iteratorAgeThresholdMs).toBe(60_000);
  });

  // check 8: every queue of work in flight alarms when deep.
  it("watch each work queue's depth", () => {
    expect(workQueueNames().length).toBeGreaterThan(0);
    const depthAlarms = run.ofType(T.alarm).filter((a) => /-depth$/.test(a.inputs.name));
    expect(depthAlarms.map((a) => a.inputs.dimensions.QueueName).sort()).toEqual(workQueueNames().sort());
    for (const depth of depthAlarms)
      expect(depth.inputs).toMatchObject({
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        statistic: "Maximum",
        threshold: queueDepthThreshold,
        ...notifies,
      });
  });

  // check 9: the delivery tier's health: safety-net deliveries, repeats, throttled posts, transaction conflicts.
  it.each([
    ["safety-net-deliveries", "SafetyNetDeliveries"],
    ["repeats", "Repeats"],
    ["throttled-posts", "ThrottledPosts"],
    ["transaction-conflicts", "TransactionConflicts"],
  ] as const)("watch %s (%s) above a rate", (suffix, metricName) => {
    expect(countMetrics).toContain(metricName);
    expect(alarm(suffix).inputs).toMatchObject({
      namespace: "roomcast",
      metricName,
      statistic: "Sum",
      period: 300,
      dimensions: { service: "roomcast", stack: "ops" },
      threshold: deliveryHealthThresholds[metricName],
      ...notifies,
    });
  });

  // check 10: nothing else: 3 per function, 3 stage, 2 table, a DLQ and a depth alarm per queue, IteratorAge, 5 roomcast counts.
  it("are exactly those", () => {
    expect(run.ofType(T.alarm)).toHaveLength(
      functionNames.length * 3 + 3 + 2 + 2 + workQueueNames().length + 1 + 5,
    );
  });
});

describe("dashboard", () => {
  const body = () => JSON.parse(run.ofType(T.dashboard)[0].inputs.dashboardBody);
  const metricRows = () =>
    body()
      .widgets.filter((w: { type: string }) => w.type === "metric")
      .flatMap((w: { properties: { metrics: unknown[][] } }) => w.properties.metrics);

  // check 11: the alarms' states, every roomcast metric and the AWS metrics the alarms watch; its URL an output.
  it("shows the alarms, every roomcast metric and the AWS ones, at the dashboardUrl output", () => {
    expect(run.ofType(T.dashboard).map((d) => d.inputs.dashboardName)).toEqual(["roomcast-ops"]);
    const alarmsWidget = body().widgets.find((w: { type: string }) => w.type === "alarm");
    expect(alarmsWidget.properties.alarms.sort()).toEqual(
      run
        .ofType(T.alarm)
        .map((a) => a.state.arn)
        .sort(),
    );
    const rows = metricRows();
    const named = (namespace: string) =>
      rows.filter((row: string[]) => row[0] === namespace).map((row: string[]) => row[1]);
    expect(new Set(named("roomcast"))).toEqual(new Set([...countMetrics, ...latencyMetrics]));
    for (const row of rows.filter((r: string[]) => r[0] === "roomcast"))
      expect(row.slice(2, 6)).toEqual(["service", "roomcast", "stack", "ops"]);
    expect(named("AWS/ApiGateway").sort()).toEqual(
      [
        "ClientError",
        "ConnectCount",
        "ExecutionError",
        "IntegrationError",
        "IntegrationLatency",
        "MessageCount",
      ].sort(),
    );
    for (const metric of ["Invocations", "Errors", "Throttles", "Duration"]) {
      const fns = rows
        .filter((r: string[]) => r[0] === "AWS/Lambda" && r[1] === metric)
        .map((r: string[]) => r[3]);
      expect(fns.sort()).toEqual(functionNames.map((name) => `roomcast-ops-${name}`).sort());
    }
    expect(named("AWS/DynamoDB")).toEqual(["ReadThrottleEvents", "WriteThrottleEvents"]);
    expect(named("AWS/SQS")).toContain("ApproximateAgeOfOldestMessage");
    const queuesShown = rows.filter((r: string[]) => r[0] === "AWS/SQS").map((r: string[]) => r[3]);
    for (const name of workQueueNames()) expect(queuesShown).toContain(name);
  });

  // check 12: a delivery-health graph and the stream's IteratorAge.
  it("graphs delivery health and the stream's IteratorAge", () => {
    const graphs = body().widgets.filter((w: { type: string }) => w.type === "metric");
    const health = graphs.find(
      (w: { properties: { title: string } }) => w.properties.title === "Delivery health",
    );
    expect(health.properties.metrics.map((row: string[]) => row[1])).toEqual(deliveryHealthMetrics);
    for (const metric of deliveryHealthMetrics) expect(countMetrics).toContain(metric);
    expect(metricRows()).toContainEqual([
      "AWS/Lambda",
      "IteratorAge",
      "FunctionName",
      "roomcast-ops-stream",
      { stat: "Maximum" },
    ]);
    expect(run.outputs.dashboardUrl).toBe(
      `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards/dashboard/roomcast-ops`,
    );
  });
});

describe("custom domain in a hosted zone", () => {
  // check 13: a REGIONAL TLS 1.2 domain name, its root mapped to the stage, an alias record in the zone.
  it("creates the domain name, the API mapping and the alias record", () => {
    const [domain] = run.ofType("aws:apigatewayv2/domainName:DomainName");
    expect(domain.inputs).toEqual({
      domainName: "chat.example.com",
      domainNameConfiguration: { certificateArn, endpointType: "REGIONAL", securityPolicy: "TLS_1_2" },
    });
    expect(run.ofType("aws:apigatewayv2/apiMapping:ApiMapping").map((m) => m.inputs)).toEqual([
      { apiId: apiId(), domainName: "chat.example.com", stage: "ops" },
    ]);
    expect(run.ofType("aws:route53/record:Record").map((r) => r.inputs)).toEqual([
      {
        zoneId: "Z0123456789ABCDEFGHIJ",
        name: "chat.example.com",
        type: "A",
        aliases: [
          {
            name: domain.state.domainNameConfiguration.targetDomainName,
            zoneId: "Z1UJRXOUMOOFQ8",
            evaluateTargetHealth: false,
          },
        ],
      },
    ]);
  });

  // check 14: clients use the domain; handlers still post to the stage's own execute-api endpoint.
  it("makes url and wscat follow the domain while handlers keep the execute-api endpoint", () => {
    const stageEndpoint = `https://${apiId()}.execute-api.${region}.amazonaws.com/ops`;
    expect(run.outputs).toMatchObject({
      url: "wss://chat.example.com",
      wscat: "wscat -c wss://chat.example.com",
      managementEndpoint: stageEndpoint,
    });
    for (const fn of run.ofType(T.fn))
      expect(fn.inputs.environment.variables.MANAGEMENT_ENDPOINT).toBe(stageEndpoint);
  });
});

describe("tags, tracing and reserved concurrency", () => {
  // check 15: one AWS provider, tagging by default, manages every AWS resource of the stack.
  it("tag every AWS resource through the provider's default tags", () => {
    const [provider] = run.ofType("pulumi:providers:aws");
    expect(provider.inputs.region).toBe(region);
    expect(JSON.parse(provider.inputs.defaultTags)).toEqual({
      tags: { team: "chat", costCenter: "cc-42", "roomcast:project": "roomcast", "roomcast:stack": "ops" },
    });
    const awsResources = run.resources.filter((r: MockedResource) => r.type.startsWith("aws:"));
    expect(awsResources.length).toBeGreaterThan(100);
    for (const resource of awsResources) expect(resource.provider).toMatch(/::pulumi:providers:aws::aws::/);
  });

  // check 16: tracing on: every function traced, and allowed to upload segments (X-Ray takes no narrower resource).
  it("trace every function when tracing is on, with the X-Ray permission", () => {
    expect(run.ofType(T.fn)).toHaveLength(functionNames.length);
    for (const fn of run.ofType(T.fn)) expect(fn.inputs.tracingConfig).toEqual({ mode: "Active" });
    const lambdaPolicies = run.ofType(T.rolePolicy).filter((p) => p.name !== "roomcast-apigateway-logs");
    for (const policy of lambdaPolicies) {
      expect(JSON.parse(policy.inputs.policy).Statement).toContainEqual({
        Sid: "Tracing",
        Effect: "Allow",
        Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
        Resource: "*",
      });
    }
  });

  // check 17: every function reserves its default concurrency (issue 19); config overrides by
  // name, and -1 leaves a function unreserved.
  it("reserves the configured concurrency, none for -1, and every other function its default", () => {
    const reserved = Object.fromEntries(
      run.ofType(T.fn).map((fn) => [fn.inputs.name, fn.inputs.reservedConcurrentExecutions]),
    );
    const expected = Object.fromEntries(
      functionNames.map((name) => [`roomcast-ops-${name}`, infraDefaults.reservedConcurrency[name]]),
    );
    Object.assign(expected, {
      "roomcast-ops-sendmessage": 50,
      "roomcast-ops-fanout": 32,
      "roomcast-ops-members": undefined,
    });
    expect(reserved).toEqual(expected);
    // Every function not overridden has a default of its own: none is left in the shared pool by accident.
    for (const name of functionNames.filter((n) => !["sendmessage", "fanout", "members"].includes(n)))
      expect(reserved[`roomcast-ops-${name}`]).toBeGreaterThan(0);
  });
});
