import { spawn } from "node:child_process";
import {
  CreateTableCommand,
  DeleteTableCommand,
  paginateListTables,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import { DescribeStreamCommand, DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import { startDynamoDbLocal, type DynamoDbLocal } from "../../local/dynamodb-local";
import { clientConfig, createDynamoClient } from "../../model/client";
import ExclusiveNodeEnvironment from "./node-environment";
import { alive } from "./child-process";

/**
 * Stream records an instance may hold before the next file gets a fresh one. DynamoDB Local
 * keeps every stream record ever written, a deleted table's too, and the writes and GetRecords
 * of every later file pay for them (measured here: GetRecords 4-6 ms a call on a fresh
 * instance, 17-31 ms once 30,000 records had been written to other tables; paging.test's
 * cursor test 12.7 s alone, over 60 s after reply-size.test's 12,000 records). Most files
 * write a few hundred.
 */
const recycleAfterStreamRecords = 2_000;

/** This jest worker's DynamoDB Local, serving its files one after another. */
let shared: DynamoDbLocal | undefined;

async function startShared(): Promise<DynamoDbLocal> {
  // A JVM starting on a loaded 2-core machine can take far longer than npm start's 30 s.
  const dynamodb = await startDynamoDbLocal({ timeoutMs: 120_000 });
  // Jest ends a worker by letting it exit: then the JVM goes with it; if the worker is
  // killed instead, a watcher ends the JVM once the worker is gone. Both end with the instance.
  dynamodb.unref();
  const killOnExit = () => alive(dynamodb.pid) && process.kill(dynamodb.pid, "SIGKILL");
  process.once("exit", killOnExit);
  const watcher = spawn(
    "sh",
    ["-c", `while kill -0 ${process.pid} 2>/dev/null; do sleep 2; done; kill -9 ${dynamodb.pid} 2>/dev/null`],
    { detached: true, stdio: "ignore" },
  );
  watcher.unref();
  return {
    ...dynamodb,
    async stop() {
      process.off("exit", killOnExit);
      watcher.kill("SIGKILL");
      await dynamodb.stop();
    },
  };
}

/**
 * How many stream records the instance has written, to every table ever: its sequence numbers
 * are one counter, and a new stream's shard starts at its next value.
 */
async function streamRecordsWritten(dynamodb: DynamoDBClient, endpoint: string): Promise<number> {
  const streams = new DynamoDBStreamsClient(clientConfig(endpoint));
  const TableName = `stream-probe-${process.pid}-${Date.now()}`;
  try {
    const { TableDescription } = await dynamodb.send(
      new CreateTableCommand({
        TableName,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
        StreamSpecification: { StreamEnabled: true, StreamViewType: "KEYS_ONLY" },
      }),
    );
    const { StreamDescription } = await streams.send(
      new DescribeStreamCommand({ StreamArn: TableDescription!.LatestStreamArn! }),
    );
    return Number(StreamDescription!.Shards![0].SequenceNumberRange!.StartingSequenceNumber);
  } finally {
    await dynamodb.send(new DeleteTableCommand({ TableName })).catch(() => undefined);
    streams.destroy();
  }
}

/**
 * The node environment plus a DynamoDB Local, on a free port, in memory. The files a jest
 * worker runs share one: a JVM's start and warm-up cost a small file about half its CPU
 * (measured: history.test 9.9 CPU-s with its own, 5.4 on a warm shared one). After each file
 * its tables are deleted, and once the instance holds {@link recycleAfterStreamRecords}
 * stream records it is stopped and the next file starts a fresh one.
 *
 * jest.config.js gives it to the files of the DynamoDB folders.
 */
export default class DynamoDbLocalEnvironment extends ExclusiveNodeEnvironment {
  private dynamodb?: DynamoDbLocal;

  override async setup(): Promise<void> {
    await super.setup();
    if (!shared || !alive(shared.pid)) shared = await startShared();
    this.dynamodb = shared;
    // The test's sandboxed env and the real one, which child processes inherit.
    this.global.process.env.DYNAMODB_ENDPOINT = this.dynamodb.endpoint;
    process.env.DYNAMODB_ENDPOINT = this.dynamodb.endpoint;
  }

  override async teardown(): Promise<void> {
    delete process.env.DYNAMODB_ENDPOINT;
    try {
      if (this.dynamodb) await this.clearOrRecycle(this.dynamodb);
    } finally {
      await super.teardown();
    }
  }

  /** Deletes the file's tables, then stops the instance if it has written too many stream records. */
  private async clearOrRecycle(dynamodb: DynamoDbLocal): Promise<void> {
    const client = createDynamoClient(dynamodb.endpoint);
    try {
      for await (const page of paginateListTables({ client }, {}))
        await Promise.all(
          (page.TableNames ?? []).map((TableName) =>
            client.send(new DeleteTableCommand({ TableName })).catch(() => undefined),
          ),
        );
      if ((await streamRecordsWritten(client, dynamodb.endpoint)) < recycleAfterStreamRecords) return;
    } catch {
      // An instance that cannot be cleared is not reused.
    } finally {
      client.destroy();
    }
    if (shared === dynamodb) shared = undefined;
    await dynamodb.stop();
  }
}
