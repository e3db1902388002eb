import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { APIGatewayAuthorizerResult } from "aws-lambda";
import { authorizerFactory, authSecretEnv, type AuthorizerEvent } from "../handlers/authorizer";
import { createLambdaFunction } from "./function";
import { ownLogGroupPolicy } from "./policies";

export type ConnectAuthorizerArgs = {
  api: aws.apigatewayv2.Api;
  /** Physical names start with it: `roomcast-dev` -> Lambda `roomcast-dev-authorizer`. */
  namePrefix: string;
  /** The HS256 signing secret of the tokens, a Pulumi secret: encrypted in the state too. */
  secret: pulumi.Output<string>;
  /** The handler settings' environment (settingsEnvironment): the token policy and name length come from it. */
  settings: Record<string, string>;
  memorySize: number;
  timeoutSeconds: number;
  logRetentionDays: number;
  reservedConcurrency?: number;
  tracing: boolean;
};

/**
 * The Lambda REQUEST authorizer of `$connect`: the function Pulumi builds from
 * handlers/authorizer.ts (with its log group and a role that may only write it),
 * the API's authorizer reading `?token=`, and the permission for this API to run
 * it. A handshake without a token gets 401 from API Gateway, a bad one 403.
 *
 * @example
 * const auth = new ConnectAuthorizer("roomcast", { api, namePrefix: "roomcast-dev", secret, ... });
 * new ChatRoute("roomcast-connect", { route: connectRoute, authorizerId: auth.authorizer.id, ... });
 */
export class ConnectAuthorizer extends pulumi.ComponentResource {
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly role: aws.iam.Role;
  readonly function: aws.lambda.CallbackFunction<AuthorizerEvent, APIGatewayAuthorizerResult>;
  readonly authorizer: aws.apigatewayv2.Authorizer;
  readonly permission: aws.lambda.Permission;

  constructor(name: string, args: ConnectAuthorizerArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("roomcast:index:ConnectAuthorizer", name, {}, opts);
    const asChild = { parent: this };
    const { api } = args;
    const functionName = `${args.namePrefix}-authorizer`;

    const { logGroup, role, function: fn } = createFunction();
    const authorizer = createAuthorizer();
    const permission = createPermission();

    this.logGroup = logGroup;
    this.role = role;
    this.function = fn;
    this.authorizer = authorizer;
    this.permission = permission;
    this.registerOutputs({ functionArn: fn.arn, authorizerId: authorizer.id });

    function createFunction() {
      return createLambdaFunction(
        name,
        {
          functionName,
          // Reads the secret once per cold start.
          callbackFactory: authorizerFactory(),
          // It verifies a signature and nothing else: no table, no execute-api.
          policy: (logGroupArn) => ownLogGroupPolicy(logGroupArn, args.tracing),
          // The secret stays a secret Output: the function's state is encrypted.
          environment: { ...args.settings, [authSecretEnv]: args.secret },
          memorySize: args.memorySize,
          timeoutSeconds: args.timeoutSeconds,
          logRetentionDays: args.logRetentionDays,
          reservedConcurrency: args.reservedConcurrency,
          tracing: args.tracing,
        },
        asChild,
      );
    }

    function createAuthorizer() {
      return new aws.apigatewayv2.Authorizer(
        name,
        {
          apiId: api.id,
          name: functionName,
          authorizerType: "REQUEST",
          authorizerUri: fn.invokeArn,
          // Browsers cannot set headers on a WebSocket handshake: the token rides in the URL.
          identitySources: ["route.request.querystring.token"],
        },
        asChild,
      );
    }

    function createPermission() {
      return new aws.lambda.Permission(
        name,
        {
          action: "lambda:InvokeFunction",
          function: fn.name,
          principal: "apigateway.amazonaws.com",
          // This API's authorizer only.
          sourceArn: pulumi.interpolate`${api.executionArn}/authorizers/${authorizer.id}`,
        },
        asChild,
      );
    }
  }
}
