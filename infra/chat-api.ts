import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { configEnv } from "../handlers/config";
import { routes } from "../handlers/routes";
import { keyAttributes, tableDefinition } from "../model/table";
import { accessLogFormat } from "./access-log";
import { createApiGatewayLogsRole } from "./api-gateway-logs-role";
import { ChatRoute } from "./chat-route";
import { ConnectAuthorizer } from "./connect-authorizer";
import { settingsEnvironment, type StackConfig } from "./config";

/**
 * roomcast on AWS: the table, the WebSocket API, its stage with throttling and
 * access logs, a {@link ChatRoute} (Lambda, integration, route, permission) for
 * every route of the route table and, when the stack has an `authSecret`, the
 * {@link ConnectAuthorizer} that `$connect` then requires.
 *
 * @example
 * const chat = new ChatApi("roomcast", readStackConfig());
 * export const url = chat.url; // wss://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/dev
 */
export class ChatApi extends pulumi.ComponentResource {
  readonly table: aws.dynamodb.Table;
  readonly api: aws.apigatewayv2.Api;
  readonly stage: aws.apigatewayv2.Stage;
  readonly routes: ChatRoute[];
  /** Only on a stack with an `authSecret`. */
  readonly authorizer?: ConnectAuthorizer;
  /** `wss://{apiId}.execute-api.{region}.amazonaws.com/{stage}`, for clients. */
  readonly url: pulumi.Output<string>;
  /** `https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`, for PostToConnection. */
  readonly managementEndpoint: pulumi.Output<string>;

  constructor(name: string, args: StackConfig, opts: pulumi.ComponentResourceOptions = {}) {
    super("roomcast:index:ChatApi", name, {}, opts);
    const asChild = { parent: this };
    const namePrefix = `${name}-${pulumi.getStack()}`;

    const table = createTable();
    const api = createApi();
    const accessLogGroup = createAccessLogGroup();
    const logsRole = args.apiGatewayLogsRole ? createApiGatewayLogsRole(name, asChild) : undefined;
    const stage = createStage();
    const authorizer = args.authSecret ? createAuthorizer(args.authSecret) : undefined;
    const chatRoutes = createRoutes();

    this.table = table;
    this.api = api;
    this.stage = stage;
    this.routes = chatRoutes;
    this.authorizer = authorizer;
    this.url = pulumi.interpolate`${api.apiEndpoint}/${stage.name}`;
    this.managementEndpoint = this.url.apply((url) => url.replace(/^wss:/, "https:"));
    this.registerOutputs({
      url: this.url,
      managementEndpoint: this.managementEndpoint,
      tableName: table.name,
    });

    function createTable() {
      const def = tableDefinition;
      return new aws.dynamodb.Table(
        `${name}-table`,
        {
          billingMode: "PAY_PER_REQUEST",
          attributes: keyAttributes().map((attribute) => ({ name: attribute, type: "S" })),
          hashKey: def.partitionKey,
          rangeKey: def.sortKey,
          globalSecondaryIndexes: def.globalIndexes.map((index) => ({
            name: index.name,
            keySchemas: [
              { attributeName: index.partitionKey, keyType: "HASH" },
              { attributeName: index.sortKey, keyType: "RANGE" },
            ],
            projectionType: "ALL",
          })),
          ttl: { attributeName: def.ttlAttribute, enabled: true },
          pointInTimeRecovery: { enabled: args.table.pointInTimeRecovery },
          deletionProtectionEnabled: args.table.deletionProtection,
        },
        asChild,
      );
    }

    function createApi() {
      return new aws.apigatewayv2.Api(
        `${name}-api`,
        { name: namePrefix, protocolType: "WEBSOCKET", routeSelectionExpression: "$request.body.action" },
        asChild,
      );
    }

    function createAccessLogGroup() {
      return new aws.cloudwatch.LogGroup(
        `${name}-access-log`,
        { name: `/aws/apigateway/${namePrefix}/access`, retentionInDays: args.logRetentionDays },
        asChild,
      );
    }

    function createStage() {
      return new aws.apigatewayv2.Stage(
        `${name}-stage`,
        {
          apiId: api.id,
          name: args.stage,
          autoDeploy: true,
          defaultRouteSettings: {
            throttlingRateLimit: args.throttling.rateLimit,
            throttlingBurstLimit: args.throttling.burstLimit,
          },
          accessLogSettings: { destinationArn: accessLogGroup.arn, format: accessLogFormat },
        },
        { ...asChild, dependsOn: logsRole ? [logsRole] : [] },
      );
    }

    function createAuthorizer(secret: pulumi.Output<string>) {
      return new ConnectAuthorizer(
        `${name}-authorizer`,
        {
          api,
          namePrefix,
          secret,
          memorySize: args.functions.memorySize,
          timeoutSeconds: args.functions.timeoutSeconds,
          logRetentionDays: args.logRetentionDays,
        },
        asChild,
      );
    }

    function createRoutes() {
      const environment = { [configEnv.tableName]: table.name, ...settingsEnvironment(args.handlers) };
      return routes.map(
        (route) =>
          new ChatRoute(
            `${name}-${route.name}`,
            {
              route,
              api,
              stage: args.stage,
              table,
              namePrefix,
              environment,
              memorySize: args.functions.memorySize,
              timeoutSeconds: args.functions.timeoutSeconds,
              logRetentionDays: args.logRetentionDays,
              // A WebSocket API runs authorizers on the handshake only: later frames are trusted.
              authorizerId: route.key === "$connect" ? authorizer?.authorizer.id : undefined,
            },
            asChild,
          ),
      );
    }
  }
}
