/**
 * BASELINES: the classic AWS tutorial's chat (aws-samples/simple-websockets-chat-app)
 * and its Go port, rewritten here from their published design so they run on the
 * same local gateway and DynamoDB Local as roomcast. Their design:
 *
 * - one table of connections, one item `{connectionId}` per connection, put by
 *   `$connect` and deleted by `$disconnect`; no rooms, so everyone is in one chat;
 * - `sendmessage` (`{"action":"sendmessage","data":"..."}`) Scans that whole table
 *   (projecting connectionId) to find its recipients, creates a Management API
 *   client for this invocation and posts `data` to every connection, the sender
 *   included, all at once (`Promise.all`; the SDK's default pool of 50 sockets is
 *   the only bound); a 410 deletes the connection's item;
 * - the Go port does the same but posts to one connection at a time.
 *
 * One deliberate fix: the Scan is paginated. The tutorial's single Scan stops at
 * 1 MB (about 35 000 connections) and silently skips everyone after that.
 */
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
  type ApiGatewayManagementApiClientConfig,
} from "@aws-sdk/client-apigatewaymanagementapi";
import { CreateTableCommand, waitUntilTableExists, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, PutCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { Route } from "../../handlers/route";
import { createDocumentClient, createDynamoClient, localAws } from "../../model/client";

export type TutorialConnections = {
  tableName: string;
  create(): Promise<void>;
  add(connectionId: string): Promise<void>;
  remove(connectionId: string): Promise<void>;
  /** The tutorial's recipient lookup: every connection of the API, Scan page by page. */
  scanConnectionIds(): Promise<string[]>;
};

/** The tutorial's connections table. */
export function tutorialConnections(client: DynamoDBClient, tableName: string): TutorialConnections {
  const doc = createDocumentClient(client);
  return {
    tableName,
    async create() {
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          BillingMode: "PAY_PER_REQUEST",
          AttributeDefinitions: [{ AttributeName: "connectionId", AttributeType: "S" }],
          KeySchema: [{ AttributeName: "connectionId", KeyType: "HASH" }],
        }),
      );
      await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: tableName });
    },
    async add(connectionId) {
      await doc.send(new PutCommand({ TableName: tableName, Item: { connectionId } }));
    },
    async remove(connectionId) {
      await doc.send(new DeleteCommand({ TableName: tableName, Key: { connectionId } }));
    },
    async scanConnectionIds() {
      const ids: string[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await doc.send(
          new ScanCommand({
            TableName: tableName,
            ProjectionExpression: "connectionId",
            ExclusiveStartKey: start,
          }),
        );
        for (const item of page.Items ?? []) ids.push(item.connectionId as string);
        start = page.LastEvaluatedKey;
      } while (start);
      return ids;
    },
  };
}

export type Posting = "all at once" | "one at a time";

/**
 * The tutorial's `sendmessage` ("all at once") or its Go port's ("one at a time"),
 * as a route of the local gateway under `key`. `clientConfig` carries the local
 * stack's region and keys. `connections` may depend on the frame's `room`: one
 * tutorial deployment per room, for workloads of many rooms.
 */
export function tutorialSendMessageRoute(
  key: string,
  connections: TutorialConnections | ((room: string) => TutorialConnections),
  posting: Posting,
  clientConfig: ApiGatewayManagementApiClientConfig,
): Route {
  return {
    key,
    name: key,
    routeResponse: false,
    permissions: { table: ["Query"], post: true },
    async handle(event, deps) {
      const { data = "", room = "" } = JSON.parse(event.body ?? "{}") as { data?: string; room?: string };
      const table = typeof connections === "function" ? connections(room) : connections;
      const recipients = await table.scanConnectionIds();
      const client = new ApiGatewayManagementApiClient({
        endpoint: deps.config.managementEndpoint,
        ...clientConfig,
      });
      const post = async (connectionId: string) => {
        try {
          await client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
        } catch (error) {
          if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 410)
            throw error;
          await table.remove(connectionId);
        }
      };
      try {
        if (posting === "all at once") await Promise.all(recipients.map(post));
        else for (const connectionId of recipients) await post(connectionId);
      } finally {
        client.destroy();
      }
      return { statusCode: 200, body: "Data sent." };
    },
  };
}

/**
 * A tutorial deployment served as a route of a benchmark's gateway: the action it answers, its
 * connections table and how it posts. `perRoom`: one deployment per room, its table
 * `<table>-<room>` (the frame's `room`).
 */
export type TutorialDeployment = { action: string; table: string; posting: Posting; perRoom?: boolean };

/** The `sendmessage` routes of `deployments`, their tables on `dynamodbEndpoint`, posting to `managementEndpoint`. */
export function tutorialRoutes(
  deployments: readonly TutorialDeployment[],
  dynamodbEndpoint: string,
  managementEndpoint: string,
): Route[] {
  if (deployments.length === 0) return [];
  const dynamodb = createDynamoClient(dynamodbEndpoint);
  return deployments.map(({ action, table, posting, perRoom }) =>
    tutorialSendMessageRoute(
      action,
      perRoom
        ? (room: string) => tutorialConnections(dynamodb, `${table}-${room}`)
        : tutorialConnections(dynamodb, table),
      posting,
      { ...localAws, endpoint: managementEndpoint },
    ),
  );
}

/**
 * roomcast's routes, with `$connect` also recording the connection in the
 * tutorial's table, as the tutorial's own `$connect` does: both designs then see
 * the same connections.
 */
export function withTutorialConnect(routes: readonly Route[], connections: TutorialConnections): Route[] {
  return routes.map((route) =>
    route.key !== "$connect"
      ? route
      : {
          ...route,
          async handle(event, deps) {
            const result = await route.handle(event, deps);
            if (result.statusCode === 200) await connections.add(event.requestContext.connectionId);
            return result;
          },
        },
  );
}
