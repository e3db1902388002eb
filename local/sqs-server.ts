import { createServer, type Server } from "node:http";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { createRequestHandler } from "local-aws-sqs";
import { localAws } from "../model/client";
import { queueDefinitions, queueName, type QueueKey } from "../model/queues";
import { freePort } from "./dynamodb-local";
import { deduplicateForInterval, type DedupQueue } from "./sqs-fifo-dedup";
import { lockMessageGroups, type ServerQueue } from "./sqs-fifo-groups";

/** The account id in local queue URLs and ARNs (LocalStack's convention). */
export const localAccountId = "000000000000";

export type SqsServer = { endpoint: string; port: number; stop(): Promise<void> };

/**
 * Starts local-aws-sqs (SQS's JSON and Query protocols, in this process: it is a small
 * pure-JS server) on a free port, with FIFO message groups locked and deduplication ids
 * kept for 5 minutes, as SQS does.
 *
 * @example
 * const sqs = await startSqsServer();
 * const client = createSqsClient(sqs.endpoint);
 * const queues = await createRoomcastQueues(client, "roomcast-dev");
 * await sqs.stop();
 */
export async function startSqsServer(options: { port?: number } = {}): Promise<SqsServer> {
  const port = options.port ?? (await freePort());
  const { service, requestHandler } = createRequestHandler({
    port,
    hostname: "127.0.0.1",
    accountId: localAccountId,
    region: localAws.region,
    // A test may delete and re-create a queue at once; AWS makes you wait 60 s.
    emulateQueueCreationLifecycle: false,
  });
  const queues = service.Queues as unknown as (ServerQueue & DedupQueue)[];
  const push = queues.push.bind(queues);
  queues.push = (...added) => {
    for (const queue of added) {
      lockMessageGroups(queue);
      deduplicateForInterval(queue);
    }
    return push(...added);
  };
  const server: Server = createServer((req, res) => void requestHandler(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An SQS client for the local server, with the fixed local region and keys. */
export function createSqsClient(endpoint: string): SQSClient {
  return new SQSClient({ ...localAws, endpoint });
}

export type QueueRef = { name: string; url: string; arn: string; fifo: boolean };
export type RoomcastQueues = Record<QueueKey, QueueRef>;

/**
 * How long a received message stays hidden locally: a fan-out job for as long as the local
 * fan-out function may run (60 s, as the Pulumi default), a dead letter while it is read.
 */
const visibilityTimeoutSeconds: Record<QueueKey, number> = {
  fanout: 60,
  fanoutDeadLetter: 30,
  streamDeadLetter: 30,
};

/** Shorter timings for tests; defaults come from {@link queueDefinitions}. */
export type QueueOverrides = { visibilityTimeoutSeconds?: number; maxReceiveCount?: number };

/**
 * Creates roomcast's queues (idempotent, like CreateQueue): the FIFO fan-out queue
 * redriven to its FIFO dead-letter queue after `maxReceiveCount` receives, and the
 * stream mapping's dead-letter queue.
 */
export async function createRoomcastQueues(
  client: SQSClient,
  prefix: string,
  overrides: QueueOverrides = {},
): Promise<RoomcastQueues> {
  const create = async (key: QueueKey, attributes: Record<string, string> = {}): Promise<QueueRef> => {
    const def = queueDefinitions[key];
    const name = queueName(prefix, key);
    const visibility = overrides.visibilityTimeoutSeconds ?? visibilityTimeoutSeconds[key];
    const { QueueUrl } = await client.send(
      new CreateQueueCommand({
        QueueName: name,
        Attributes: {
          VisibilityTimeout: String(visibility),
          ...(def.fifo ? { FifoQueue: "true" } : {}),
          ...attributes,
        },
      }),
    );
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }),
    );
    return { name, url: QueueUrl!, arn: Attributes!.QueueArn!, fifo: def.fifo };
  };
  const fanoutDeadLetter = await create("fanoutDeadLetter");
  const streamDeadLetter = await create("streamDeadLetter");
  const fanout = await create("fanout", {
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: fanoutDeadLetter.arn,
      maxReceiveCount: overrides.maxReceiveCount ?? queueDefinitions.fanout.maxReceiveCount,
    }),
  });
  return { fanout, fanoutDeadLetter, streamDeadLetter };
}
