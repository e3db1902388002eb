import {
  CreateTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import { keyAttributes, tableDefinition } from "./table";

/**
 * Creates the table from {@link tableDefinition} if it does not exist yet (local
 * stack and tests; in AWS, Pulumi owns the table). Returns true when it was created.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<boolean> {
  const def = tableDefinition;
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: keyAttributes().map((name) => ({
          AttributeName: name,
          AttributeType: "S",
        })),
        KeySchema: [
          { AttributeName: def.partitionKey, KeyType: "HASH" },
          { AttributeName: def.sortKey, KeyType: "RANGE" },
        ],
        ...(def.globalIndexes.length > 0 && {
          GlobalSecondaryIndexes: def.globalIndexes.map((index) => ({
            IndexName: index.name,
            KeySchema: [
              { AttributeName: index.partitionKey, KeyType: "HASH" as const },
              { AttributeName: index.sortKey, KeyType: "RANGE" as const },
            ],
            Projection: { ProjectionType: "KEYS_ONLY" as const },
          })),
        }),
        StreamSpecification: { StreamEnabled: true, StreamViewType: def.stream.viewType },
      }),
    );
  } catch (error) {
    if (error instanceof ResourceInUseException) return false;
    throw error;
  }
  await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: tableName });
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: def.ttlAttribute, Enabled: true },
    }),
  );
  return true;
}
