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
 * Settings of any AWS SDK client: pointed at `endpoint` (a local emulator) with the fixed
 * local region and keys when one is given, else AWS with the default credential chain.
 * An access key id in the endpoint (`http://KEY@127.0.0.1:8000`, see local/data-key.ts)
 * replaces the fixed one: DynamoDB Local keeps a database per key, so the key is what
 * opens `npm start`'s persisted data.
 */
export function clientConfig(endpoint?: string) {
  if (!endpoint) return {};
  const url = new URL(endpoint);
  if (!url.username) return { ...localAws, endpoint };
  const accessKeyId = decodeURIComponent(url.username);
  url.username = "";
  url.password = "";
  return {
    region: localAws.region,
    credentials: { ...localAws.credentials, accessKeyId },
    endpoint: url.origin,
  };
}

/** A DynamoDB client, local or on AWS as {@link clientConfig} says. */
export function createDynamoClient(endpoint?: string, config: DynamoDBClientConfig = {}) {
  return new DynamoDBClient({ ...clientConfig(endpoint), ...config });
}

export function createDocumentClient(client: DynamoDBClient) {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}
