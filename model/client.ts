import { DynamoDBClient, type DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

/**
 * Region and key pair every local client uses (tests, `npm start`, bench), so they
 * all see the same DynamoDB Local tables. Never used when no endpoint is set.
 */
export const localAws = {
  region: "us-east-1",
  credentials: { accessKeyId: "roomcast", secretAccessKey: "roomcast-local" },
} as const;

/**
 * A DynamoDB client: pointed at `endpoint` (DynamoDB Local) with the fixed local
 * region and keys when one is given, else at AWS with the default credential chain.
 */
export function createDynamoClient(endpoint?: string, config: DynamoDBClientConfig = {}) {
  return new DynamoDBClient(endpoint ? { ...localAws, endpoint, ...config } : config);
}

export function createDocumentClient(client: DynamoDBClient) {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}
