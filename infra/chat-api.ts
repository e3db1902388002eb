import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { configEnv } from "../handlers/config";
import { workerFactory } from "../handlers/lambda";
import { metricsStackEnv } from "../handlers/metrics";
import { routes } from "../handlers/routes";
import { roomSweepIntervalMinutes } from "../handlers/delivery/room-sweep";
import { fanoutWorker, roomSweepWorker, streamWorker, type Worker } from "../handlers/workers";
import { keyAttributes, tableDefinition } from "../model/table";
import { accessLogFormat } from "./access-log";
import { ChatAlarms } from "./alarms";
import { createApiGatewayLogsRole } from "./api-gateway-logs-role";
import { ChatRoute } from "./chat-route";
import { ChatWorker, type WorkerSource } from "./chat-worker";
import { settingsEnvironment, type FunctionSize, type StackConfig } from "./config";
import { ConnectAuthorizer } from "./connect-authorizer";
import { ChatDomain } from "./custom-domain";
import { createDashboard } from "./dashboard";
import { FanoutQueues } from "./fanout-queues";
import type { FunctionPermissions } from "../handlers/permissions";
import type { FunctionResources } from "./policies";

/** model/table.ts, read for what infrastructure needs: indexes and a stream are optional there. */
type TableShape = {
  partitionKey: string;
  sortKey: string;
  ttlAttribute: string;
  globalIndexes?: readonly { name: string; partitionKey: string; sortKey: string }[];
  stream?: { viewType: "NEW_IMAGE" | "OLD_IMAGE" | "NEW_AND_OLD_IMAGES" | "KEYS_ONLY" };
};

/**
 * roomcast on AWS, step by step:
 * 1. the table (with its stream) from model/table.ts;
 * 2. the WebSocket API and its stage, with throttling and access logs (and API
 *    Gateway's account-wide logs role, unless a stack opts out);
 * 3. the fan-out queues and their dead-letter queues ({@link FanoutQueues});
 * 4. with an `authSecret`, the {@link ConnectAuthorizer} `$connect` requires;
 * 5. a {@link ChatRoute} per route and a {@link ChatWorker} per worker (the stream,
 *    the fan-out queue, the room sweep's schedule), each with the policy its handler declares;
 * 6. with a `domainName`, the {@link ChatDomain} the `url` then follows;
 * 7. the {@link ChatAlarms} and a CloudWatch dashboard.
 *
 * @example
 * const chat = new ChatApi("roomcast", readStackConfig());
 * export const url = chat.url; // wss://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/dev
 */
export class ChatApi extends pulumi.ComponentResource {
  readonly table: aws.dynamodb.Table;
  readonly api: aws.apigatewayv2.Api;
  readonly stage: aws.apigatewayv2.Stage;
  readonly queues: FanoutQueues;
  readonly routes: ChatRoute[];
  readonly workers: {
    stream: ChatWorker<unknown, unknown>;
    fanout: ChatWorker<unknown, unknown>;
    sweep: ChatWorker<unknown, unknown>;
  };
  /** Only on a stack with an `authSecret`. */
  readonly authorizer?: ConnectAuthorizer;
  /** Only on a stack with a `domainName`. */
  readonly domain?: ChatDomain;
  readonly alarms: ChatAlarms;
  /** `wss://{apiId}.execute-api.{region}.amazonaws.com/{stage}`, or `wss://{domainName}`, for clients. */
  readonly url: pulumi.Output<string>;
  /** `https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`, for PostToConnection, whatever the domain. */
  readonly managementEndpoint: pulumi.Output<string>;
  readonly dashboardUrl: pulumi.Output<string>;

  constructor(name: string, args: StackConfig, opts: pulumi.ComponentResourceOptions = {}) {
    super("roomcast:index:ChatApi", name, {}, opts);
    const asChild = { parent: this };
    const stack = pulumi.getStack();
    const namePrefix = `${name}-${stack}`;
    const tableShape: TableShape = tableDefinition;
    const indexNames = (tableShape.globalIndexes ?? []).map((index) => index.name);

    const table = createTable();
    const api = createApi();
    const accessLogGroup = createAccessLogGroup();
    const logsRole = args.apiGatewayLogsRole ? createApiGatewayLogsRole(name, asChild) : undefined;
    // From the stage's name, not the stage: the stage's route settings need the routes, whose functions need this.
    const managementEndpoint = pulumi.interpolate`${api.apiEndpoint}/${args.stage}`.apply((url) =>
      url.replace(/^wss:/, "https:"),
    );
    const queues = new FanoutQueues(
      `${name}-queues`,
      {
        namePrefix,
        fanoutTimeoutSeconds: args.functions.fanout.timeoutSeconds,
        maxReceiveCount: args.fanout.maxReceiveCount,
      },
      asChild,
    );
    // One key for the whole stack: a cursor sealed by one container must open in every other.
    const cursorSecret = new random.RandomPassword(
      `${name}-cursor-secret`,
      { length: 48, special: false },
      asChild,
    );
    const environment = functionEnvironment();
    const resources: Omit<FunctionResources, "logGroupArn"> = {
      tableArn: table.arn,
      indexNames,
      apiExecutionArn: api.executionArn,
      stage: args.stage,
      fanoutQueueArn: queues.jobs.arn,
      tracing: args.functions.tracing,
    };
    const authorizer = args.authSecret ? createAuthorizer(args.authSecret) : undefined;
    const chatRoutes = createRoutes();
    const stage = createStage();
    const stageUrl = pulumi.interpolate`${api.apiEndpoint}/${stage.name}`;
    const workers = createWorkers();
    const domain = args.domain ? new ChatDomain(name, { ...args.domain, api, stage }, asChild) : undefined;
    const watched = [
      ...(authorizer ? [{ name: "authorizer", fn: authorizer.function, size: args.functions.routes }] : []),
      ...chatRoutes.map((route, i) => ({
        name: routes[i].name,
        fn: route.function,
        size: args.functions.routes,
      })),
      { name: "stream", fn: workers.stream.function, size: args.functions.stream },
      { name: "fanout", fn: workers.fanout.function, size: args.functions.fanout },
      { name: "sweep", fn: workers.sweep.function, size: args.functions.stream },
    ];
    const deadLetterQueues = [
      { name: "fanout-dlq", queueName: queues.jobsDeadLetters.name },
      { name: "stream-dlq", queueName: queues.streamDeadLetters.name },
    ];
    const workQueues = [{ name: "fanout-queue", queueName: queues.jobs.name }];
    const alarms = new ChatAlarms(
      name,
      {
        namePrefix,
        stack,
        functions: watched.map((w) => ({
          name: w.name,
          functionName: w.fn.name,
          timeoutSeconds: w.size.timeoutSeconds,
        })),
        apiId: api.id,
        stage: args.stage,
        tableName: table.name,
        deadLetterQueues,
        workQueues,
        streamFunctionName: workers.stream.function.name,
        alarmEmail: args.alarmEmail,
      },
      asChild,
    );
    const { url: dashboardUrl } = createDashboard(
      `${name}-dashboard`,
      {
        namePrefix,
        stack,
        functionNames: watched.map((w) => w.fn.name),
        apiId: api.id,
        stage: args.stage,
        tableName: table.name,
        streamFunctionName: workers.stream.function.name,
        workQueueNames: workQueues.map((queue) => queue.queueName),
        deadLetterQueueNames: deadLetterQueues.map((queue) => queue.queueName),
        alarmArns: alarms.alarms.map((alarm) => alarm.arn),
      },
      asChild,
    );

    this.table = table;
    this.api = api;
    this.stage = stage;
    this.queues = queues;
    this.routes = chatRoutes;
    this.workers = workers;
    this.authorizer = authorizer;
    this.domain = domain;
    this.alarms = alarms;
    this.url = domain ? domain.url : stageUrl;
    this.managementEndpoint = managementEndpoint;
    this.dashboardUrl = dashboardUrl;
    this.registerOutputs({
      url: this.url,
      managementEndpoint,
      tableName: table.name,
      dashboardUrl,
    });

    function createTable() {
      const def = tableShape;
      return new aws.dynamodb.Table(
        `${name}-table`,
        {
          billingMode: "PAY_PER_REQUEST",
          attributes: keyAttributes().map((attribute) => ({ name: attribute, type: "S" })),
          hashKey: def.partitionKey,
          rangeKey: def.sortKey,
          globalSecondaryIndexes: def.globalIndexes?.map((index) => ({
            name: index.name,
            keySchemas: [
              { attributeName: index.partitionKey, keyType: "HASH" },
              { attributeName: index.sortKey, keyType: "RANGE" },
            ],
            projectionType: "ALL",
          })),
          ttl: { attributeName: def.ttlAttribute, enabled: true },
          streamEnabled: def.stream !== undefined,
          streamViewType: def.stream?.viewType,
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
          // Each route gets a bucket of this size (per route, not one for the stage).
          defaultRouteSettings: {
            throttlingRateLimit: args.throttling.defaultRoute.rateLimit,
            throttlingBurstLimit: args.throttling.defaultRoute.burstLimit,
          },
          // `$default` (junk frames) a small one of its own, so a flood of junk cannot crowd out real routes.
          routeSettings: Object.entries(args.throttling.routes).map(([routeKey, throttling]) => ({
            routeKey,
            throttlingRateLimit: throttling.rateLimit,
            throttlingBurstLimit: throttling.burstLimit,
          })),
          accessLogSettings: { destinationArn: accessLogGroup.arn, format: accessLogFormat },
        },
        // Route settings name routes that must exist first.
        { ...asChild, dependsOn: [...(logsRole ? [logsRole] : []), ...chatRoutes.map((r) => r.apiRoute)] },
      );
    }

    /** Every function's variables: the table, this stage's own management endpoint, the queue, the settings. */
    function functionEnvironment() {
      return {
        [configEnv.tableName]: table.name,
        // Never derived from requestContext.domainName, which a custom domain changes.
        [configEnv.managementEndpoint]: managementEndpoint,
        [configEnv.fanoutQueueUrl]: queues.jobs.url,
        [metricsStackEnv]: stack,
        [configEnv.cursorSecret]: cursorSecret.result,
        ...settingsEnvironment(args.handlers),
        ...(args.allowedOrigins && { [configEnv.allowedOrigins]: args.allowedOrigins.join(",") }),
      };
    }

    function createAuthorizer(secret: pulumi.Output<string>) {
      return new ConnectAuthorizer(
        `${name}-authorizer`,
        {
          api,
          namePrefix,
          secret,
          settings: settingsEnvironment(args.handlers),
          ...args.functions.routes,
          logRetentionDays: args.logRetentionDays,
          reservedConcurrency: args.functions.reservedConcurrency.authorizer,
          tracing: args.functions.tracing,
        },
        asChild,
      );
    }

    function createRoutes() {
      return routes.map(
        (route) =>
          new ChatRoute(
            `${name}-${route.name}`,
            {
              route: declared(route),
              api,
              resources,
              namePrefix,
              environment,
              ...args.functions.routes,
              logRetentionDays: args.logRetentionDays,
              reservedConcurrency: args.functions.reservedConcurrency[route.name],
              // A WebSocket API runs authorizers on the handshake only: later frames are trusted.
              authorizerId: route.key === "$connect" ? authorizer?.authorizer.id : undefined,
            },
            asChild,
          ),
      );
    }

    function createWorkers() {
      const worker = <E, R>(handler: Worker<E, R>, size: FunctionSize, source: WorkerSource) =>
        new ChatWorker(
          `${name}-${handler.name}`,
          {
            namePrefix,
            environment,
            logRetentionDays: args.logRetentionDays,
            resources,
            name: handler.name,
            callbackFactory: workerFactory(handler),
            permissions: declared(handler).permissions,
            size,
            reservedConcurrency: args.functions.reservedConcurrency[handler.name],
            source,
          },
          asChild,
        );
      return {
        stream: worker(streamWorker, args.functions.stream, {
          kind: "stream",
          streamArn: table.streamArn,
          onFailureQueueArn: queues.streamDeadLetters.arn,
          ...args.stream,
        }),
        fanout: worker(fanoutWorker, args.functions.fanout, {
          kind: "queue",
          queueArn: queues.jobs.arn,
          maximumConcurrency: args.fanout.maxConcurrency,
        }),
        // The stream worker's size: the same kind of work (directory and membership reads, deletes).
        sweep: worker(roomSweepWorker, args.functions.stream, {
          kind: "schedule",
          scheduleExpression: `rate(${roomSweepIntervalMinutes} minutes)`,
        }),
      } as ChatApi["workers"];
    }
  }
}

/** A route or worker must declare what its handler does: its policy is built from nothing else. */
function declared<T extends { name: string; permissions?: FunctionPermissions }>(handler: T) {
  if (!handler.permissions) throw new pulumi.RunError(`${handler.name} declares no permissions`);
  return handler as T & { permissions: FunctionPermissions };
}
