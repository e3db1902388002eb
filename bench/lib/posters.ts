import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import pLimit from "p-limit";
import { defaultConfig } from "../../handlers/config";
import { createDelivery, type Delivery } from "../../handlers/delivery/delivery";
import { createTransport } from "../../handlers/delivery/transport";
import { localAws } from "../../model/client";

/**
 * roomcast's own delivery (handlers/delivery/delivery.ts over handlers/delivery/transport.ts) with
 * the handlers' defaults, posting to a local endpoint with the local keys, `concurrency` posts at
 * a time unless a broadcast says otherwise, over at most `maxSockets` keep-alive sockets.
 *
 * @example
 * const { delivery, destroy } = roomcastDelivery("http://127.0.0.1:3001", 32);
 * await delivery.broadcast(ids, JSON.stringify(frame));
 */
export function roomcastDelivery(
  endpoint: string,
  concurrency: number,
  maxSockets = concurrency,
): { delivery: Delivery; destroy(): void } {
  const transport = createTransport({
    endpoint,
    region: localAws.region,
    credentials: localAws.credentials,
    maxAttempts: defaultConfig.postMaxAttempts,
    timeoutMs: defaultConfig.postTimeoutMs,
    maxSockets,
  });
  return { delivery: createDelivery({ transport, concurrency }), destroy: () => transport.destroy() };
}

/**
 * PostToConnectionCommand through the AWS SDK v3 client, `concurrency` at a time:
 * what the baselines (and roomcast before its own transport) post with.
 * Resolves with the number delivered.
 *
 * @example
 * const sdk = sdkPoster("http://127.0.0.1:3001", 32);
 * const delivered = await sdk.broadcast(ids, JSON.stringify(frame));
 */
export function sdkPoster(endpoint: string, concurrency: number) {
  const client = new ApiGatewayManagementApiClient({ endpoint, ...localAws });
  return {
    async broadcast(connectionIds: readonly string[], json: string): Promise<number> {
      const limit = pLimit(concurrency);
      const sent = await Promise.all(
        connectionIds.map((id) =>
          limit(() =>
            client.send(new PostToConnectionCommand({ ConnectionId: id, Data: json })).then(
              () => 1,
              () => 0,
            ),
          ),
        ),
      );
      return sent.reduce<number>((a, b) => a + b, 0);
    },
    destroy: () => client.destroy(),
  };
}
