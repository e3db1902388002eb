import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import type { Message, RoomChange } from "../../model/store";
import type { Deps } from "../deps";
import { announcePresence, type PresenceEvent } from "./presence";
import { settleStoredMessages } from "./settle";
import { normalizeStreamRecord } from "./stream-records";
import type { Worker } from "../worker";

/**
 * The table's stream, batch by batch — the outbox behind every promise that does not
 * fit in a request:
 * - a stored message is the safety net's to check: the fast path has almost always
 *   delivered it already (its mark says so); one it did not settle is delivered;
 * - a membership that appears or disappears moves its room's count and is announced;
 * - a connection that disappears ($disconnect, a 410, TTL) takes its memberships along.
 * No recipient can fail a record: failed posts become retry jobs of their own. A record
 * fails only when DynamoDB or SQS does; it and everything after it are handed over again
 * (ReportBatchItemFailures), and the marks keep rooms already delivered from repeats.
 */
export const streamWorker: Worker<DynamoDBStreamEvent, DynamoDBBatchResponse> = {
  name: "stream",
  permissions: {
    table: ["GetItem", "BatchGetItem", "Query", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"],
    post: true,
    queue: true,
  },
  async handle(event, deps) {
    const changes: RoomChange[] = [];
    const presence: PresenceEvent[] = [];
    const messages: { message: Message; record: DynamoDBRecord }[] = [];
    let failed: DynamoDBRecord | undefined;
    for (const record of event.Records) {
      try {
        await handleRecord(record, deps, { changes, presence, messages });
      } catch (error) {
        deps.log.error("stream record failed", { sequenceNumber: record.dynamodb?.SequenceNumber, error });
        failed = record;
        break;
      }
    }
    try {
      await settleStoredMessages(
        deps,
        messages.map((m) => m.message),
      );
    } catch (error) {
      deps.log.error("stream batch's messages not settled", { error });
      failed = messages[0].record;
    }
    // Counted once per stream record, so a batch handed over again never counts twice.
    const counts = await deps.store.applyRoomChanges(changes);
    await announcePresence(deps, presence, counts);
    return {
      batchItemFailures: failed ? [{ itemIdentifier: failed.dynamodb?.SequenceNumber ?? "" }] : [],
    };
  },
};

type Collected = {
  changes: RoomChange[];
  presence: PresenceEvent[];
  messages: { message: Message; record: DynamoDBRecord }[];
};

async function handleRecord(record: DynamoDBRecord, deps: Deps, collected: Collected) {
  const change = normalizeStreamRecord(record);
  const image = change.kind === "remove" ? change.oldImage : change.newImage;
  // aws-lambda's AttributeValue and the SDK's describe the same JSON.
  const stored = image && deps.store.itemOf(image);
  if (!stored) return;
  if (stored.entity === "message" && change.kind === "insert") {
    collected.messages.push({ message: stored.item, record });
  } else if (stored.entity === "membership" && change.kind !== "modify") {
    const { room, name, verified, connectionId, kicked } = stored.item;
    const joined = change.kind === "insert";
    const sequenceNumber = record.dynamodb?.SequenceNumber ?? "0";
    collected.changes.push({ room, connectionId, delta: joined ? 1 : -1, sequenceNumber });
    collected.presence.push({
      room,
      event: joined ? "join" : "leave",
      name,
      verified,
      connectionId,
      ...(!joined && kicked && { kicked }),
    });
  } else if (stored.entity === "connection" && change.kind === "remove" && stored.item.rooms?.length) {
    await deps.store.removeMemberships(stored.item.connectionId, stored.item.rooms);
  }
}
