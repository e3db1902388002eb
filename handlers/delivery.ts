import {
  ApiGatewayManagementApiClient,
  GoneException,
  PostToConnectionCommand,
  type ApiGatewayManagementApiClientConfig,
} from "@aws-sdk/client-apigatewaymanagementapi";
import pLimit from "p-limit";
import type { Logger } from "./log";

type DeliveryOutcome = "delivered" | "gone" | "failed";
export type DeliveryReport = { delivered: number; gone: string[]; failed: string[] };

/**
 * Pushes frames to connections through API Gateway's Management API. Failures
 * are logged to `log`, the caller's request logger, so they carry its route and ids.
 */
export interface Delivery {
  /** Posts one frame to many connections, at most `concurrency` at a time; never throws for a recipient. */
  broadcast(
    endpoint: string,
    connectionIds: readonly string[],
    frame: unknown,
    log: Logger,
  ): Promise<DeliveryReport>;
}

export type DeliveryOptions = {
  concurrency: number;
  /** Attempts per post: the SDK's standard retry backs off on 429 and 5xx, never on 410. */
  maxAttempts: number;
  /** Extra client settings (credentials and region for the local stack). */
  clientConfig?: ApiGatewayManagementApiClientConfig;
};

export function createDelivery(options: DeliveryOptions): Delivery {
  const clients = new Map<string, ApiGatewayManagementApiClient>();
  const clientFor = (endpoint: string) => {
    let client = clients.get(endpoint);
    if (!client) {
      client = new ApiGatewayManagementApiClient({
        endpoint,
        maxAttempts: options.maxAttempts,
        retryMode: "standard",
        // The SDK's default pool of 50 sockets would cap the fan-out below a larger concurrency.
        requestHandler: {
          httpsAgent: { keepAlive: true, maxSockets: options.concurrency },
          httpAgent: { keepAlive: true, maxSockets: options.concurrency },
        },
        ...options.clientConfig,
      });
      clients.set(endpoint, client);
    }
    return client;
  };

  async function post(
    endpoint: string,
    connectionId: string,
    data: Uint8Array,
    log: Logger,
  ): Promise<DeliveryOutcome> {
    try {
      await clientFor(endpoint).send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
      return "delivered";
    } catch (error) {
      if (
        error instanceof GoneException ||
        (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 410
      ) {
        return "gone";
      }
      log.error("post to connection failed", { recipient: connectionId, error });
      return "failed";
    }
  }

  return {
    async broadcast(endpoint, connectionIds, frame, log) {
      const data = Buffer.from(JSON.stringify(frame));
      const limit = pLimit(options.concurrency);
      const outcomes = await Promise.all(
        connectionIds.map((id) => limit(async () => [id, await post(endpoint, id, data, log)] as const)),
      );
      const report: DeliveryReport = { delivered: 0, gone: [], failed: [] };
      for (const [id, outcome] of outcomes) {
        if (outcome === "delivered") report.delivered++;
        else report[outcome].push(id);
      }
      return report;
    },
  };
}
