import { fanoutWorker, streamWorker } from "../../handlers/workers";
import type { FunctionPermissions } from "../../handlers/permissions";
import { account, region, runProgram, type MockedResource, type ProgramRun } from "../support/pulumi-mocks";

// The `dev` stack with no config: the fan-out tier at its defaults.
let run: ProgramRun;
beforeAll(async () => {
  run = await runProgram("dev", {}, [], { serializeLambdas: false });
}, 300_000);

const T = {
  queue: "aws:sqs/queue:Queue",
  mapping: "aws:lambda/eventSourceMapping:EventSourceMapping",
  fn: "aws:lambda/function:Function",
  table: "aws:dynamodb/table:Table",
  api: "aws:apigatewayv2/api:Api",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
};

const queue = (name: string) => run.ofType(T.queue).find((q) => q.inputs.name === name)!;
const table = () => run.ofType(T.table)[0];
const fn = (name: string) => run.ofType(T.fn).find((f) => f.inputs.name === `roomcast-dev-${name}`)!;
const mappingOf = (f: MockedResource) =>
  run.ofType(T.mapping).filter((m) => m.inputs.functionName === f.state.arn);
const statementsOf = (f: MockedResource) => {
  const role = run.ofType(T.role).find((r) => r.state.arn === f.inputs.role)!;
  const policies = run.ofType(T.rolePolicy).filter((p) => p.inputs.role === role.id);
  expect(policies).toHaveLength(1);
  return JSON.parse(policies[0].inputs.policy).Statement;
};
const declared = (worker: object) => (worker as { permissions: FunctionPermissions }).permissions;
const sqsArn = (name: string) => `arn:aws:sqs:${region}:${account}:${name}`;

describe("queues", () => {
  // check 1: three queues, each encrypted with SQS-managed keys.
  it("are the FIFO jobs queue, its FIFO dead-letter queue and the stream's dead-letter queue, all encrypted", () => {
    expect(
      run
        .ofType(T.queue)
        .map((q) => q.inputs.name)
        .sort(),
    ).toEqual(["roomcast-dev-fanout-dlq.fifo", "roomcast-dev-fanout.fifo", "roomcast-dev-stream-dlq"].sort());
    for (const q of run.ofType(T.queue)) expect(q.inputs.sqsManagedSseEnabled).toBe(true);
  });

  // check 2: jobs: FIFO, producer-set deduplication, 6 x the fan-out timeout, redrive after 5 receives.
  it("make the jobs queue FIFO with producer dedup ids, 6x the worker timeout and a redrive to the DLQ", () => {
    const jobs = queue("roomcast-dev-fanout.fifo");
    expect(jobs.inputs).toMatchObject({
      fifoQueue: true,
      contentBasedDeduplication: false,
      visibilityTimeoutSeconds: 6 * 60,
    });
    expect(fn("fanout").inputs.timeout).toBe(60);
    expect(JSON.parse(jobs.inputs.redrivePolicy)).toEqual({
      deadLetterTargetArn: sqsArn("roomcast-dev-fanout-dlq.fifo"),
      maxReceiveCount: 5,
    });
  });

  // check 3: dead letters: the jobs' DLQ is FIFO (SQS requires it), the stream's is standard; both keep 14 days.
  it("keep dead letters 14 days, FIFO for jobs and standard for stream records", () => {
    const fifo = queue("roomcast-dev-fanout-dlq.fifo");
    const stream = queue("roomcast-dev-stream-dlq");
    expect(fifo.inputs).toMatchObject({ fifoQueue: true, messageRetentionSeconds: 1209600 });
    expect(stream.inputs.fifoQueue).toBeUndefined();
    expect(stream.inputs.messageRetentionSeconds).toBe(1209600);
  });
});

describe("the stream worker", () => {
  // check 4: one mapping on the table's stream with every property order and at-least-once need.
  it("consumes the table's stream: LATEST, 100 a batch, only the records it handles, partial failures, bounded retries, no bisect, DLQ", () => {
    const worker = fn("stream");
    expect(worker).toBeDefined();
    expect(mappingOf(worker).map((m) => m.inputs)).toEqual([
      {
        eventSourceArn: table().state.streamArn,
        functionName: worker.state.arn,
        startingPosition: "LATEST",
        batchSize: 100,
        functionResponseTypes: ["ReportBatchItemFailures"],
        maximumRetryAttempts: 10,
        bisectBatchOnFunctionError: false,
        parallelizationFactor: 1,
        // New messages and memberships, removed memberships and connections: never rate-limit buckets.
        filterCriteria: {
          filters: [
            { pattern: JSON.stringify({ dynamodb: { NewImage: { e: { S: ["message", "membership"] } } } }) },
            {
              pattern: JSON.stringify({ dynamodb: { OldImage: { e: { S: ["membership", "connection"] } } } }),
            },
          ],
        },
        destinationConfig: { onFailure: { destinationArn: sqsArn("roomcast-dev-stream-dlq") } },
      },
    ]);
  });

  // check 5: exactly: its declared table actions, posting, sending jobs, reading the stream, its DLQ, its logs.
  it("may do what it declares, read the stream, send to its DLQ and write its own logs, nothing else", () => {
    const worker = fn("stream");
    const permissions = declared(streamWorker);
    expect(permissions).toMatchObject({ post: true, queue: true });
    const logGroup = run.ofType(T.logGroup).find((g) => g.inputs.name === "/aws/lambda/roomcast-dev-stream")!;
    const apiId = run.ofType(T.api)[0].id;
    expect(statementsOf(worker)).toEqual([
      {
        Sid: "ChatTable",
        Effect: "Allow",
        Action: permissions.table.map((action) => `dynamodb:${action}`),
        Resource: [table().state.arn],
      },
      {
        Sid: "PostToConnections",
        Effect: "Allow",
        Action: ["execute-api:ManageConnections"],
        Resource: `arn:aws:execute-api:${region}:${account}:${apiId}/dev/POST/@connections/*`,
      },
      {
        Sid: "SendFanoutJobs",
        Effect: "Allow",
        Action: ["sqs:SendMessage"],
        Resource: sqsArn("roomcast-dev-fanout.fifo"),
      },
      {
        Sid: "ReadTableStream",
        Effect: "Allow",
        Action: ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
        Resource: table().state.streamArn,
      },
      {
        Sid: "ListTableStreams",
        Effect: "Allow",
        Action: ["dynamodb:ListStreams"],
        Resource: `${table().state.arn}/stream/*`,
      },
      {
        Sid: "StreamFailureDestination",
        Effect: "Allow",
        Action: ["sqs:SendMessage"],
        Resource: sqsArn("roomcast-dev-stream-dlq"),
      },
      {
        Sid: "OwnLogGroup",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: `${logGroup.state.arn}:*`,
      },
    ]);
  });
});

describe("the fan-out worker", () => {
  // check 6: one mapping on the jobs queue: batches of 10, partial failures, bounded concurrency.
  it("consumes the jobs queue: 10 a batch, partial failures, maximum concurrency from config", () => {
    const worker = fn("fanout");
    expect(mappingOf(worker).map((m) => m.inputs)).toEqual([
      {
        eventSourceArn: sqsArn("roomcast-dev-fanout.fifo"),
        functionName: worker.state.arn,
        batchSize: 1,
        functionResponseTypes: ["ReportBatchItemFailures"],
        scalingConfig: {
          maximumConcurrency: Number(worker.inputs.environment.variables.FANOUT_MAX_CONCURRENCY),
        },
      },
    ]);
    expect(run.ofType(T.mapping)).toHaveLength(2);
  });

  // check 7: exactly: its declared table actions, posting, consuming its queue, its logs; it sends no jobs.
  it("may do what it declares, consume the jobs queue and write its own logs, nothing else", () => {
    const worker = fn("fanout");
    const permissions = declared(fanoutWorker);
    expect(permissions.queue ?? false).toBe(false);
    const logGroup = run.ofType(T.logGroup).find((g) => g.inputs.name === "/aws/lambda/roomcast-dev-fanout")!;
    const statements = statementsOf(worker);
    expect(statements).toEqual([
      {
        Sid: "ChatTable",
        Effect: "Allow",
        Action: permissions.table.map((action) => `dynamodb:${action}`),
        Resource: [table().state.arn],
      },
      expect.objectContaining({ Sid: "PostToConnections", Action: ["execute-api:ManageConnections"] }),
      {
        Sid: "ConsumeFanoutJobs",
        Effect: "Allow",
        Action: [
          "sqs:ReceiveMessage",
          "sqs:DeleteMessage",
          "sqs:GetQueueAttributes",
          "sqs:ChangeMessageVisibility",
        ],
        Resource: sqsArn("roomcast-dev-fanout.fifo"),
      },
      {
        Sid: "OwnLogGroup",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: `${logGroup.state.arn}:*`,
      },
    ]);
  });

  // check 8: both workers run like the routes (Node 22, arm64, JSON logs), sized by their own settings.
  it("runs both workers on nodejs22.x arm64 with their own memory and timeout", () => {
    expect(fn("stream").inputs).toMatchObject({
      runtime: "nodejs22.x",
      architectures: ["arm64"],
      handler: "__index.handler",
      memorySize: 256,
      timeout: 60,
      loggingConfig: { logFormat: "JSON", logGroup: "/aws/lambda/roomcast-dev-stream" },
    });
    expect(fn("fanout").inputs).toMatchObject({
      runtime: "nodejs22.x",
      architectures: ["arm64"],
      memorySize: 256,
      timeout: 60,
      loggingConfig: { logFormat: "JSON", logGroup: "/aws/lambda/roomcast-dev-fanout" },
    });
  });
});
