import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runProgram, type ProgramRun } from "../support/pulumi-mocks";

// The CI deploy role's permissions, derived from what the program creates: every resource type the
// mocked program registers (with every optional feature on) must be covered by
// docs/deploy-role-policy.json, the policy docs/ci.md tells you to attach.
// WRITE_DEPLOY_ROLE_POLICY=1 npx jest tests/infra/deploy-role.test.ts rewrites the file from this table.
const policyPath = join(__dirname, "../../docs/deploy-role-policy.json");
const ciDocPath = join(__dirname, "../../docs/ci.md");

const crud = (service: string, noun: string) =>
  ["Create", "Get", "Update", "Delete"].map((verb) => `${service}:${verb}${noun}`);
const tagging = (service: string) => [`${service}:TagResource`, `${service}:UntagResource`];
/** API Gateway (v1 and v2) authorizes by HTTP verb on the resource path. */
const apiGatewayVerbs = ["GET", "POST", "PUT", "PATCH", "DELETE"].map((verb) => `apigateway:${verb}`);

/** What the Pulumi AWS provider calls to create, read, update and delete each resource type. */
const actionsByType: Record<string, string[]> = {
  "aws:dynamodb/table:Table": [
    "dynamodb:CreateTable",
    "dynamodb:DescribeTable",
    "dynamodb:UpdateTable",
    "dynamodb:DeleteTable",
    "dynamodb:DescribeContinuousBackups",
    "dynamodb:UpdateContinuousBackups",
    "dynamodb:DescribeTimeToLive",
    "dynamodb:UpdateTimeToLive",
    "dynamodb:ListTagsOfResource",
    ...tagging("dynamodb"),
  ],
  "aws:apigatewayv2/api:Api": apiGatewayVerbs,
  "aws:apigatewayv2/stage:Stage": apiGatewayVerbs,
  "aws:apigatewayv2/route:Route": apiGatewayVerbs,
  "aws:apigatewayv2/routeResponse:RouteResponse": apiGatewayVerbs,
  "aws:apigatewayv2/integration:Integration": apiGatewayVerbs,
  "aws:apigatewayv2/authorizer:Authorizer": apiGatewayVerbs,
  "aws:apigatewayv2/domainName:DomainName": [...apiGatewayVerbs, "acm:DescribeCertificate"],
  "aws:apigatewayv2/apiMapping:ApiMapping": apiGatewayVerbs,
  // The account's CloudWatch role setting: API Gateway checks the caller may pass that role.
  "aws:apigateway/account:Account": ["apigateway:GET", "apigateway:PATCH", "iam:PassRole"],
  "aws:lambda/function:Function": [
    "lambda:CreateFunction",
    "lambda:GetFunction",
    "lambda:GetFunctionConfiguration",
    "lambda:GetFunctionCodeSigningConfig",
    "lambda:ListVersionsByFunction",
    "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration",
    "lambda:DeleteFunction",
    "lambda:PutFunctionConcurrency",
    "lambda:DeleteFunctionConcurrency",
    "lambda:ListTags",
    ...tagging("lambda"),
    "iam:PassRole",
  ],
  "aws:lambda/permission:Permission": ["lambda:AddPermission", "lambda:RemovePermission", "lambda:GetPolicy"],
  "aws:lambda/eventSourceMapping:EventSourceMapping": [
    ...crud("lambda", "EventSourceMapping"),
    "lambda:ListEventSourceMappings",
    "dynamodb:DescribeStream",
    "dynamodb:ListStreams",
    "sqs:GetQueueAttributes",
  ],
  "aws:cloudwatch/eventRule:EventRule": [
    "events:PutRule",
    "events:DescribeRule",
    "events:DeleteRule",
    "events:EnableRule",
    "events:DisableRule",
    "events:ListTagsForResource",
    ...tagging("events"),
  ],
  "aws:cloudwatch/eventTarget:EventTarget": [
    "events:PutTargets",
    "events:ListTargetsByRule",
    "events:RemoveTargets",
  ],
  "aws:cloudwatch/logGroup:LogGroup": [
    "logs:CreateLogGroup",
    "logs:DescribeLogGroups",
    "logs:DeleteLogGroup",
    "logs:PutRetentionPolicy",
    "logs:DeleteRetentionPolicy",
    "logs:ListTagsForResource",
    ...tagging("logs"),
  ],
  "aws:iam/role:Role": [
    "iam:CreateRole",
    "iam:GetRole",
    "iam:UpdateRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:DeleteRole",
    "iam:ListRolePolicies",
    "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole",
    "iam:TagRole",
    "iam:UntagRole",
  ],
  "aws:iam/rolePolicy:RolePolicy": ["iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy"],
  "aws:sqs/queue:Queue": [
    "sqs:CreateQueue",
    "sqs:GetQueueUrl",
    "sqs:GetQueueAttributes",
    "sqs:SetQueueAttributes",
    "sqs:DeleteQueue",
    "sqs:ListQueueTags",
    "sqs:TagQueue",
    "sqs:UntagQueue",
  ],
  "aws:sns/topic:Topic": [
    "sns:CreateTopic",
    "sns:GetTopicAttributes",
    "sns:SetTopicAttributes",
    "sns:DeleteTopic",
    "sns:ListTagsForResource",
    ...tagging("sns"),
  ],
  "aws:sns/topicSubscription:TopicSubscription": [
    "sns:Subscribe",
    "sns:Unsubscribe",
    "sns:GetSubscriptionAttributes",
    "sns:SetSubscriptionAttributes",
  ],
  "aws:cloudwatch/metricAlarm:MetricAlarm": [
    "cloudwatch:PutMetricAlarm",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:DeleteAlarms",
    "cloudwatch:ListTagsForResource",
    ...tagging("cloudwatch"),
  ],
  "aws:cloudwatch/dashboard:Dashboard": [
    "cloudwatch:PutDashboard",
    "cloudwatch:GetDashboard",
    "cloudwatch:DeleteDashboards",
  ],
  "aws:route53/record:Record": [
    "route53:ChangeResourceRecordSets",
    "route53:ListResourceRecordSets",
    "route53:GetChange",
    "route53:GetHostedZone",
  ],
};
/** The provider's own calls (getCallerIdentity for ARNs). */
const providerActions = ["sts:GetCallerIdentity"];

/** `aws:sns/topicSubscription:TopicSubscription` -> `SnsTopicSubscription`. */
const sidOf = (type: string) =>
  type
    .split(":")[1]
    .split("/")
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join("");

type Statement = { Sid: string; Effect: "Allow"; Action: string[]; Resource: string };
type PolicyDocument = { Version: string; Statement: Statement[] };

function policyFor(types: string[]): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "PulumiProvider", Effect: "Allow", Action: providerActions, Resource: "*" },
      ...types.map((type) => ({
        Sid: sidOf(type),
        Effect: "Allow" as const,
        Action: [...new Set(actionsByType[type])].sort(),
        Resource: "*",
      })),
    ],
  };
}

let run: ProgramRun;
let types: string[];
beforeAll(async () => {
  // Every optional part on: the authorizer, the custom domain with its record, the alarm email.
  run = await runProgram(
    "prod",
    {
      authSecret: "a-secret-of-at-least-32-characters-long",
      domainName: "chat.example.com",
      certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/abc",
      hostedZoneId: "Z0123456789ABCDEFGHIJ",
      alarmEmail: "oncall@example.com",
      tracing: "true",
      reservedConcurrency: JSON.stringify({ sendmessage: 5 }),
    },
    ["authSecret"],
    { serializeLambdas: false },
  );
  // Components (roomcast:) and the provider (pulumi:) are Pulumi's own, not AWS resources.
  types = [...new Set(run.resources.map((r) => r.type))].filter((type) => type.startsWith("aws:")).sort();
  if (process.env.WRITE_DEPLOY_ROLE_POLICY) {
    writeFileSync(policyPath, JSON.stringify(policyFor(types), null, 2) + "\n");
  }
}, 300_000);

// check 1: the table above knows every resource type the program creates.
it("knows the IAM actions of every AWS resource type the program creates", () => {
  expect(types).toEqual(expect.arrayContaining(["aws:sqs/queue:Queue", "aws:route53/record:Record"]));
  expect(types.filter((type) => !actionsByType[type])).toEqual([]);
});

// check 2: the shipped policy grants them all; a type missing from it fails here.
it("docs/deploy-role-policy.json grants every action of every type the program creates", () => {
  const shipped = JSON.parse(readFileSync(policyPath, "utf8")) as PolicyDocument;
  const missing = policyFor(types).Statement.flatMap(({ Sid, Action }) => {
    const statement = shipped.Statement.find((s) => s.Sid === Sid);
    return Action.filter((action) => !statement?.Action.includes(action)).map(
      (action) => `${Sid}: ${action}`,
    );
  });
  expect(missing).toEqual([]);
});

// check 3: docs/ci.md points at that policy and names every service in it.
it("docs/ci.md attaches the policy and names every service it covers", () => {
  const ciDoc = readFileSync(ciDocPath, "utf8");
  expect(ciDoc).toContain("file://docs/deploy-role-policy.json");
  const services = [
    ...new Set(Object.values(actionsByType).flatMap((actions) => actions.map((a) => a.split(":")[0]))),
  ];
  const serviceNames: Record<string, string> = {
    dynamodb: "DynamoDB",
    apigateway: "API Gateway",
    lambda: "Lambda",
    logs: "CloudWatch Logs",
    iam: "IAM",
    sqs: "SQS",
    sns: "SNS",
    cloudwatch: "CloudWatch alarms",
    route53: "Route 53",
    events: "EventBridge",
    acm: "ACM",
  };
  expect(services.filter((service) => !ciDoc.includes(serviceNames[service] ?? service))).toEqual([]);
});
