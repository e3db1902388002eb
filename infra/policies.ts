import * as pulumi from "@pulumi/pulumi";
import type { FunctionPermissions } from "../handlers/permissions";

/** A Lambda writing to a log group it does not create. */
const logActions = ["logs:CreateLogStream", "logs:PutLogEvents"];

/** What Lambda's DynamoDB stream poller calls with the function's role (as SAM's DynamoDBStreamReadPolicy). */
const streamReadActions = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"];

/** What Lambda's SQS poller calls with the function's role. */
const queueConsumeActions = [
  "sqs:ReceiveMessage",
  "sqs:DeleteMessage",
  "sqs:GetQueueAttributes",
  "sqs:ChangeMessageVisibility",
];

/** X-Ray's segment upload has no resource-level permissions: `*` is the only resource it takes. */
const tracingStatement = {
  Sid: "Tracing",
  Effect: "Allow",
  Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
  Resource: "*",
};

export function assumeRolePolicy(service: string) {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });
}

/** The resources a function's statements name. */
export type FunctionResources = {
  tableArn: pulumi.Input<string>;
  /** The table's global secondary indexes, from model/table.ts (none: no `/index/` resource). */
  indexNames: readonly string[];
  /** `arn:aws:execute-api:{region}:{account}:{apiId}`. */
  apiExecutionArn: pulumi.Input<string>;
  stage: string;
  logGroupArn: pulumi.Input<string>;
  /** The FIFO fan-out queue: where `queue: true` sends jobs. */
  fanoutQueueArn: pulumi.Input<string>;
  /** Adds the X-Ray statement. */
  tracing: boolean;
};

/** What an event source mapping makes Lambda do with the function's role. */
export type EventSource =
  | { kind: "stream"; streamArn: pulumi.Input<string>; onFailureQueueArn: pulumi.Input<string> }
  | { kind: "queue"; queueArn: pulumi.Input<string> };

/**
 * A function's one inline policy: the declared table actions on this table,
 * posting to this stage's connections, sending fan-out jobs, what its event
 * source needs, and writing its own log group. Only what is declared; no `*`
 * resource but X-Ray's when tracing is on.
 *
 * @example
 * functionPolicy({ table: ["Query"], post: false }, { tableArn, indexNames: [], ... });
 */
export function functionPolicy(
  permissions: FunctionPermissions,
  on: FunctionResources,
  source?: EventSource,
): pulumi.Output<string> {
  const statements: object[] = [];
  if (permissions.table.length > 0) {
    // Indexes only serve Query (and Scan, which roomcast never runs).
    const indexes = permissions.table.includes("Query") ? on.indexNames : [];
    statements.push({
      Sid: "ChatTable",
      Effect: "Allow",
      Action: permissions.table.map((action) => `dynamodb:${action}`),
      Resource: [on.tableArn, ...indexes.map((index) => pulumi.interpolate`${on.tableArn}/index/${index}`)],
    });
  }
  if (permissions.post) {
    statements.push({
      Sid: "PostToConnections",
      Effect: "Allow",
      // POST only here; DELETE has its own statement for the functions that close connections.
      Action: ["execute-api:ManageConnections"],
      Resource: pulumi.interpolate`${on.apiExecutionArn}/${on.stage}/POST/@connections/*`,
    });
  }
  if (permissions.disconnect) {
    statements.push({
      Sid: "CloseConnections",
      Effect: "Allow",
      Action: ["execute-api:ManageConnections"],
      Resource: pulumi.interpolate`${on.apiExecutionArn}/${on.stage}/DELETE/@connections/*`,
    });
  }
  if (permissions.queue) {
    statements.push({
      Sid: "SendFanoutJobs",
      Effect: "Allow",
      Action: ["sqs:SendMessage"],
      Resource: on.fanoutQueueArn,
    });
  }
  if (source?.kind === "stream") statements.push(...streamStatements(on.tableArn, source));
  if (source?.kind === "queue") {
    statements.push({
      Sid: "ConsumeFanoutJobs",
      Effect: "Allow",
      Action: queueConsumeActions,
      Resource: source.queueArn,
    });
  }
  if (on.tracing) statements.push(tracingStatement);
  statements.push(ownLogGroupStatement(on.logGroupArn));
  return pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements });
}

function streamStatements(tableArn: pulumi.Input<string>, source: Extract<EventSource, { kind: "stream" }>) {
  return [
    { Sid: "ReadTableStream", Effect: "Allow", Action: streamReadActions, Resource: source.streamArn },
    {
      Sid: "ListTableStreams",
      Effect: "Allow",
      Action: ["dynamodb:ListStreams"],
      Resource: pulumi.interpolate`${tableArn}/stream/*`,
    },
    {
      // Lambda sends the records it gave up on with the function's own role.
      Sid: "StreamFailureDestination",
      Effect: "Allow",
      Action: ["sqs:SendMessage"],
      Resource: source.onFailureQueueArn,
    },
  ];
}

/**
 * What a function that touches nothing but its logs may do (the `$connect`
 * authorizer): write its own log group, and with tracing, send X-Ray segments.
 */
export function ownLogGroupPolicy(logGroupArn: pulumi.Input<string>, tracing = false): pulumi.Output<string> {
  const statements = [...(tracing ? [tracingStatement] : []), ownLogGroupStatement(logGroupArn)];
  return pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements });
}

function ownLogGroupStatement(logGroupArn: pulumi.Input<string>) {
  return {
    Sid: "OwnLogGroup",
    Effect: "Allow",
    Action: logActions,
    Resource: pulumi.interpolate`${logGroupArn}:*`,
  };
}
