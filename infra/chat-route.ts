import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { lambdaFactory } from "../handlers/lambda";
import type { Route, RouteResult, WebSocketEvent } from "../handlers/route";
import { createLambdaFunction } from "./function";
import type { FunctionPermissions } from "../handlers/permissions";
import { functionPolicy, type FunctionResources } from "./policies";

export type ChatRouteArgs = {
  /** A route of handlers/routes.ts, with the permissions its handler declares. */
  route: Route & { permissions: FunctionPermissions };
  api: aws.apigatewayv2.Api;
  /** The ARNs its policy names: only those its declared permissions need end up in it. */
  resources: Omit<FunctionResources, "logGroupArn">;
  /** Physical names start with it, e.g. `roomcast-dev` -> Lambda `roomcast-dev-sendmessage`. */
  namePrefix: string;
  /** The Lambda's environment: TABLE_NAME and the handler settings. */
  environment: pulumi.Input<Record<string, pulumi.Input<string>>>;
  memorySize: number;
  timeoutSeconds: number;
  logRetentionDays: number;
  reservedConcurrency?: number;
  /** A CUSTOM (Lambda) authorizer for this route; on a WebSocket API only `$connect` uses one. */
  authorizerId?: pulumi.Input<string>;
};

/**
 * One route of the WebSocket API and everything behind it: the Lambda Pulumi
 * builds from the handler with its log group and own role ({@link createLambdaFunction}),
 * the AWS_PROXY integration, the route (with a route response when the reply goes
 * back to the sender, with an authorizer when given one) and the permission for
 * this API to invoke it.
 *
 * @example
 * new ChatRoute("roomcast-sendmessage", { route: routeFor("sendmessage"), api, resources, ... });
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

    const { logGroup, role, function: fn } = createFunction();
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

    function createFunction() {
      return createLambdaFunction(
        name,
        {
          functionName,
          // Builds the clients at cold start; the factory's code is what gets serialized.
          callbackFactory: lambdaFactory(route),
          // Only what this route's handler declares it does.
          policy: (logGroupArn) => functionPolicy(route.permissions, { ...args.resources, logGroupArn }),
          environment: args.environment,
          memorySize: args.memorySize,
          timeoutSeconds: args.timeoutSeconds,
          logRetentionDays: args.logRetentionDays,
          reservedConcurrency: args.reservedConcurrency,
          tracing: args.resources.tracing,
        },
        asChild,
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
          authorizationType: args.authorizerId ? "CUSTOM" : undefined,
          authorizerId: args.authorizerId,
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
