import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { assumeRolePolicy } from "./policies";

/** What API Gateway does with the role (the actions of AWS's AmazonAPIGatewayPushToCloudWatchLogs). */
const apiGatewayLogActions = [
  "logs:CreateLogGroup",
  "logs:CreateLogStream",
  "logs:DescribeLogGroups",
  "logs:DescribeLogStreams",
  "logs:PutLogEvents",
  "logs:GetLogEvents",
  "logs:FilterLogEvents",
];

/**
 * Points API Gateway's account-wide setting (one per region) at a role that may
 * write CloudWatch Logs: a stage cannot have access logs before it is set. It
 * serves every API of the account, so its logs scope is this account and region,
 * and everything is retained on `pulumi destroy`: other APIs may rely on it.
 *
 * @example
 * const account = createApiGatewayLogsRole("roomcast", { parent: this });
 * new aws.apigatewayv2.Stage("stage", { ... }, { dependsOn: [account] });
 */
export function createApiGatewayLogsRole(
  name: string,
  opts: pulumi.CustomResourceOptions,
): aws.apigateway.Account {
  const retained = { ...opts, retainOnDelete: true };
  const { partition } = aws.getPartitionOutput({}, opts);
  const { region } = aws.getRegionOutput({}, opts);
  const { accountId } = aws.getCallerIdentityOutput({}, opts);
  const role = new aws.iam.Role(
    `${name}-apigateway-logs`,
    { assumeRolePolicy: assumeRolePolicy("apigateway.amazonaws.com") },
    retained,
  );
  const policy = new aws.iam.RolePolicy(
    `${name}-apigateway-logs`,
    {
      role: role.id,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: apiGatewayLogActions,
            Resource: pulumi.interpolate`arn:${partition}:logs:${region}:${accountId}:*`,
          },
        ],
      }),
    },
    retained,
  );
  return new aws.apigateway.Account(
    `${name}-apigateway-account`,
    { cloudwatchRoleArn: role.arn },
    { ...retained, dependsOn: [policy] },
  );
}
