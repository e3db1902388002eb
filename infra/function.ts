import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { assumeRolePolicy } from "./policies";

export type LambdaFunctionArgs<E, R> = {
  /** Physical name, e.g. `roomcast-dev-sendmessage`; it logs to `/aws/lambda/<functionName>`. */
  functionName: string;
  /** Runs once per cold start and returns the handler; its code is what Pulumi serializes. */
  callbackFactory: aws.lambda.CallbackFactory<E, R>;
  /** The role's one inline policy, given the ARN of the function's own log group. */
  policy: (logGroupArn: pulumi.Output<string>) => pulumi.Input<string>;
  environment: pulumi.Input<Record<string, pulumi.Input<string>>>;
  memorySize: number;
  timeoutSeconds: number;
  logRetentionDays: number;
  /** Concurrent executions kept for (and capped to) this function; unset: the account's shared pool. */
  reservedConcurrency?: number;
  /** X-Ray active tracing (the policy must then allow the X-Ray upload). */
  tracing: boolean;
};

export type LambdaFunction<E, R> = {
  logGroup: aws.cloudwatch.LogGroup;
  role: aws.iam.Role;
  policy: aws.iam.RolePolicy;
  function: aws.lambda.CallbackFunction<E, R>;
};

/**
 * A Lambda Pulumi builds from a `callbackFactory` (nodejs22.x, arm64, JSON logs),
 * with its own log group and its own role. Every resource is named `name` and is
 * a child of `opts.parent`: a function rather than a component, so the resources
 * keep the URNs they had before this was shared (no replacement on `pulumi up`).
 *
 * @example
 * const { function: fn } = createLambdaFunction("roomcast-sendmessage", {
 *   functionName: "roomcast-dev-sendmessage",
 *   callbackFactory: lambdaFactory(route),
 *   policy: (logGroupArn) => ownLogGroupPolicy(logGroupArn),
 *   environment: { TABLE_NAME: table.name },
 *   memorySize: 256, timeoutSeconds: 29, logRetentionDays: 14, tracing: false,
 * }, { parent: this });
 */
export function createLambdaFunction<E, R>(
  name: string,
  args: LambdaFunctionArgs<E, R>,
  opts: { parent: pulumi.Resource },
): LambdaFunction<E, R> {
  const logGroup = new aws.cloudwatch.LogGroup(
    name,
    { name: `/aws/lambda/${args.functionName}`, retentionInDays: args.logRetentionDays },
    opts,
  );
  // A role each, so a function may write its own log group and no other.
  const role = new aws.iam.Role(name, { assumeRolePolicy: assumeRolePolicy("lambda.amazonaws.com") }, opts);
  const policy = new aws.iam.RolePolicy(name, { role: role.id, policy: args.policy(logGroup.arn) }, opts);
  const fn = new aws.lambda.CallbackFunction<E, R>(
    name,
    {
      name: args.functionName,
      callbackFactory: args.callbackFactory,
      // An explicit role: without one CallbackFunction attaches broad managed policies.
      role,
      runtime: aws.lambda.Runtime.NodeJS22dX,
      architectures: ["arm64"],
      memorySize: args.memorySize,
      timeout: args.timeoutSeconds,
      environment: { variables: args.environment },
      loggingConfig: { logFormat: "JSON", logGroup: logGroup.name },
      reservedConcurrentExecutions: args.reservedConcurrency,
      tracingConfig: args.tracing ? { mode: "Active" } : undefined,
    },
    { ...opts, dependsOn: [policy] },
  );
  return { logGroup, role, policy, function: fn };
}
