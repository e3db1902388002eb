import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { lambdaFactory } from "../handlers/lambda";
import type { Route, RouteResult, WebSocketEvent } from "../handlers/route";
import { tableDefinition } from "../model/table";
import { assumeRolePolicy, routeFunctionPolicy } from "./policies";

export type ChatRouteArgs = {
  route: Route;
  api: aws.apigatewayv2.Api;
  stage: string;
  table: aws.dynamodb.Table;
  /** Physical names start with it, e.g. `roomcast-dev` -> Lambda `roomcast-dev-sendmessage`. */
  namePrefix: string;
  /** The Lambda's environment: TABLE_NAME and the handler settings. */
  environment: pulumi.Input<Record<string, pulumi.Input<string>>>;
  memorySize: number;
  timeoutSeconds: number;
  logRetentionDays: number;
};

/**
 * One route of the WebSocket API and everything behind it: its log group, its
 * own role, the Lambda Pulumi builds from the handler, the AWS_PROXY integration,
 * the route (with a route response when the reply goes back to the sender) and
 * the permission for this API to invoke it.
 *
 * @example
 * new ChatRoute("roomcast-sendmessage", { route: routeFor("sendmessage"), api, stage: "dev", table, ... });
 */
export class ChatRoute extends pulumi.ComponentResource {
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly role: aws.iam.Role;
  readonly function: aws.lambda.CallbackFunction<WebSocketEvent, RouteResult>;
  readonly integration: aws.apigatewayv2.Integration;
  readonly apiRoute: aws.apigatewayv2.Route;
  readonly routeResponse?: aws.apigatewayv2.RouteResponse;
  readonly permission: aws.lambda.Permission;

  constructor(name: string, args: ChatRouteArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("roomcast:index:ChatRoute", name, {}, opts);
    const asChild = { parent: this };
    const { route, api } = args;
    const functionName = `${args.namePrefix}-${route.name}`;

    const logGroup = createLogGroup();
    const { role, policy } = createRole();
    const fn = createFunction();
    const integration = createIntegration();
    const apiRoute = createRoute();
    const routeResponse = route.routeResponse ? createRouteResponse() : undefined;
    const permission = createPermission();

    this.logGroup = logGroup;
    this.role = role;
    this.function = fn;
    this.integration = integration;
    this.apiRoute = apiRoute;
    this.routeResponse = routeResponse;
    this.permission = permission;
    this.registerOutputs({ functionArn: fn.arn, routeId: apiRoute.id });

    function createLogGroup() {
      return new aws.cloudwatch.LogGroup(
        name,
        { name: `/aws/lambda/${functionName}`, retentionInDays: args.logRetentionDays },
        asChild,
      );
    }

    function createRole() {
      // A role each, so a function may write its own log group and no other.
      const role = new aws.iam.Role(
        name,
        { assumeRolePolicy: assumeRolePolicy("lambda.amazonaws.com") },
        asChild,
      );
      const policy = new aws.iam.RolePolicy(
        name,
        {
          role: role.id,
          policy: routeFunctionPolicy({
            tableArn: args.table.arn,
            indexNames: tableDefinition.globalIndexes.map((index) => index.name),
            apiExecutionArn: api.executionArn,
            stage: args.stage,
            logGroupArn: logGroup.arn,
          }),
        },
        asChild,
      );
      return { role, policy };
    }

    function createFunction() {
      return new aws.lambda.CallbackFunction(
        name,
        {
          name: functionName,
          // Builds the clients at cold start; the factory's code is what gets serialized.
          callbackFactory: lambdaFactory(route),
          // An explicit role: without one CallbackFunction attaches broad managed policies.
          role,
          runtime: aws.lambda.Runtime.NodeJS22dX,
          architectures: ["arm64"],
          memorySize: args.memorySize,
          timeout: args.timeoutSeconds,
          environment: { variables: args.environment },
          loggingConfig: { logFormat: "JSON", logGroup: logGroup.name },
        },
        { ...asChild, dependsOn: [policy] },
      );
    }

    function createIntegration() {
      return new aws.apigatewayv2.Integration(
        name,
        {
          apiId: api.id,
          integrationType: "AWS_PROXY",
          integrationMethod: "POST",
          integrationUri: fn.invokeArn,
        },
        asChild,
      );
    }

    function createRoute() {
      return new aws.apigatewayv2.Route(
        name,
        {
          apiId: api.id,
          routeKey: route.key,
          target: pulumi.interpolate`integrations/${integration.id}`,
          // Sends the integration's body back to the sender.
          routeResponseSelectionExpression: route.routeResponse ? "$default" : undefined,
        },
        asChild,
      );
    }

    function createRouteResponse() {
      return new aws.apigatewayv2.RouteResponse(
        name,
        { apiId: api.id, routeId: apiRoute.id, routeResponseKey: "$default" },
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
          // This API only, any stage, this route.
          sourceArn: pulumi.interpolate`${api.executionArn}/*/${route.key}`,
        },
        asChild,
      );
    }
  }
}
