import * as pulumi from "@pulumi/pulumi";

/**
 * The DynamoDB actions model/store.ts performs through ElectroDB: get -> GetItem,
 * query -> Query, put/create -> PutItem, patch/update/upsert -> UpdateItem,
 * delete -> DeleteItem. Its transactions (TransactWriteItems) are authorized per
 * contained Put/Update/Delete, which these already cover; it never uses a
 * ConditionCheck, a batch or a Scan.
 */
const tableActions = [
  "dynamodb:GetItem",
  "dynamodb:Query",
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
];

/** Handlers only POST to connections; GET and DELETE stay denied. */
const connectionActions = ["execute-api:ManageConnections"];

/** A Lambda writing to a log group it does not create. */
const logActions = ["logs:CreateLogStream", "logs:PutLogEvents"];

export function assumeRolePolicy(service: string) {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });
}

export type RouteFunctionResources = {
  tableArn: pulumi.Input<string>;
  indexNames: readonly string[];
  /** `arn:aws:execute-api:{region}:{account}:{apiId}`. */
  apiExecutionArn: pulumi.Input<string>;
  stage: string;
  logGroupArn: pulumi.Input<string>;
};

/**
 * What a route's Lambda may do, and on what: this table and its indexes, posting
 * to this API stage's connections, and writing its own log group. No `*` resource.
 */
export function routeFunctionPolicy(on: RouteFunctionResources): pulumi.Output<string> {
  return pulumi.jsonStringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ChatTable",
        Effect: "Allow",
        Action: tableActions,
        Resource: [
          on.tableArn,
          ...on.indexNames.map((index) => pulumi.interpolate`${on.tableArn}/index/${index}`),
        ],
      },
      {
        Sid: "PostToConnections",
        Effect: "Allow",
        Action: connectionActions,
        Resource: pulumi.interpolate`${on.apiExecutionArn}/${on.stage}/POST/@connections/*`,
      },
      ownLogGroupStatement(on.logGroupArn),
    ],
  });
}

/**
 * What a function that touches nothing but its logs may do (the `$connect`
 * authorizer): write its own log group. No table, no `execute-api`.
 */
export function ownLogGroupPolicy(logGroupArn: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.jsonStringify({ Version: "2012-10-17", Statement: [ownLogGroupStatement(logGroupArn)] });
}

function ownLogGroupStatement(logGroupArn: pulumi.Input<string>) {
  return {
    Sid: "OwnLogGroup",
    Effect: "Allow",
    Action: logActions,
    Resource: pulumi.interpolate`${logGroupArn}:*`,
  };
}
