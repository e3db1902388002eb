import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import type { RoomChange } from "../../model/store";
import type { Deps } from "../deps";
import { fanOutMessage } from "./fanout";
import { announcePresence, type PresenceEvent } from "./presence";
import { normalizeStreamRecord } from "./stream-records";
import type { Worker } from "../worker";

/**
 * The table's stream, in order, batch by batch — the outbox behind every promise
 * that does not fit in a request:
 * - a stored message is fanned out (inline for small rooms, queued for large ones);
 * - a membership that appears or disappears moves its room's count and is announced;
 * - a connection that disappears ($disconnect, a 410, TTL) takes its memberships along.
 * Records are handled one after another; the first that fails is reported, and the
 * stream hands it and everything after it over again (ReportBatchItemFailures).
 */
export const streamWorker: Worker<DynamoDBStreamEvent, DynamoDBBatchResponse> = {
  name: "stream",
  permissions: {
    table: ["GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"],
    post: true,
    queue: true,
  },
  async handle(event, deps) {
    const changes: RoomChange[] = [];
    const presence: PresenceEvent[] = [];
    let failed: DynamoDBRecord | undefined;
    for (const record of event.Records) {
      try {
        await handleRecord(record, deps, changes, presence);
      } catch (error) {
        deps.log.error("stream record failed", { sequenceNumber: record.dynamodb?.SequenceNumber, error });
        failed = record;
        break;
      }
    }
    // Counted once per stream record, so a batch handed over again never counts twice.
    const counts = await deps.store.applyRoomChanges(changes);
    await announcePresence(deps, presence, counts);
    return {
      batchItemFailures: failed ? [{ itemIdentifier: failed.dynamodb?.SequenceNumber ?? "" }] : [],
    };
  },
};

async function handleRecord(
  record: DynamoDBRecord,
  deps: Deps,
  changes: RoomChange[],
  presence: PresenceEvent[],
) {
  const change = normalizeStreamRecord(record);
  const image = change.kind === "remove" ? change.oldImage : change.newImage;
  // aws-lambda's AttributeValue and the SDK's describe the same JSON.
  const stored = image && deps.store.itemOf(image);
  if (!stored) return;
  if (stored.entity === "message" && change.kind === "insert") {
    await fanOutMessage(deps, stored.item);
  } else if (stored.entity === "membership" && change.kind !== "modify") {
    const { room, name, connectionId } = stored.item;
    const joined = change.kind === "insert";
    const sequenceNumber = record.dynamodb?.SequenceNumber ?? "0";
    changes.push({ room, connectionId, delta: joined ? 1 : -1, sequenceNumber });
    presence.push({ room, event: joined ? "join" : "leave", name, connectionId });
  } else if (stored.entity === "connection" && change.kind === "remove" && stored.item.rooms?.length) {
    await deps.store.removeMemberships(stored.item.connectionId, stored.item.rooms);
  }
}
