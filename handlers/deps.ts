import { createDocumentClient, createDynamoClient, localAws } from "../model/client";
import { createChatService } from "../model/service";
import { createChatStore, type ChatStore } from "../model/store";
import { readConfig, type ChatConfig } from "./config";
import { createDelivery, type Delivery } from "./delivery";
import { createLogger, type Logger } from "./log";
import { createProtocol, type Protocol } from "./protocol";

/** Everything a handler needs; handlers depend on these interfaces only. */
export type Deps = {
  config: ChatConfig;
  store: ChatStore;
  delivery: Delivery;
  protocol: Protocol;
  log: Logger;
};

/**
 * Builds a handler's dependencies once per cold start (Lambda) or once per
 * process (local stack): clients, the ElectroDB service and the schemas.
 */
export function createDeps(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Deps> = {}): Deps {
  const config = readConfig(env);
  const log = overrides.log ?? createLogger({ service: "roomcast" });
  // A local endpoint means DynamoDB Local and the local gateway: use the fixed local keys.
  const local = config.dynamodbEndpoint ? localAws : {};
  const doc = createDocumentClient(createDynamoClient(config.dynamodbEndpoint));
  const store = createChatStore(createChatService(doc, config.tableName), {
    connectionTtlSeconds: config.connectionTtlSeconds,
    messageTtlSeconds: config.messageTtlSeconds,
    maxRoomsPerConnection: config.maxRoomsPerConnection,
  });
  return {
    config,
    log,
    store,
    protocol: createProtocol(config),
    delivery: createDelivery({
      concurrency: config.fanoutConcurrency,
      maxAttempts: config.postMaxAttempts,
      clientConfig: local,
    }),
    ...overrides,
  };
}
