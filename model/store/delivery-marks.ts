import { BatchWriteCommand } from "@aws-sdk/lib-dynamodb";
import type { Message } from "../entities/message";
import type { StoreContext } from "./context";

/** A message by its room and seq. */
export type MessageKey = { room: string; seq: number };

/** A day: longer than the table's stream keeps a record, so a replayed record still finds its mark. */
const markTtlSeconds = 24 * 60 * 60;

/** BatchGetItem reads at most 100 keys a call. */
const batchGetLimit = 100;

const keyOf = ({ room, seq }: MessageKey) => `${room}#${seq}`;

/**
 * Delivery marks (model/entities/delivery-mark.ts): whether a message's delivery is
 * settled, so the stream worker delivers only what the fast path did not.
 */
export function deliveryMarkStore({
  entities,
  documentClient,
  table,
  nowSeconds,
  untilAllProcessed,
}: StoreContext) {
  const { deliveryMark, messageId } = entities;
  return {
    /**
     * Records that a stored event is settled (idempotent): its delivery mark and, for a
     * message, its id's index (edits and deletes name a message by id), one BatchWriteItem,
     * so a message is never marked settled without being findable by its id.
     */
    async markSettled(event: Message): Promise<void> {
      const writes = [
        deliveryMark.put({ room: event.room, seq: event.seq, expiresAt: nowSeconds() + markTtlSeconds }),
        ...(event.kind === "message"
          ? [messageId.put({ room: event.room, id: event.id, seq: event.seq, expiresAt: event.expiresAt })]
          : []),
      ].map((put) => ({ PutRequest: { Item: put.params().Item as Record<string, unknown> } }));
      await untilAllProcessed(writes, async (left) => {
        const { UnprocessedItems } = await documentClient.send(
          new BatchWriteCommand({ RequestItems: { [table]: [...left] } }),
        );
        return (UnprocessedItems?.[table] as typeof writes | undefined) ?? [];
      });
    },

    /**
     * Which of these messages have their mark, read strongly consistent. A key DynamoDB
     * left unprocessed counts as unmarked: the caller then checks again, never skips.
     */
    async deliveredAmong(messages: readonly MessageKey[]): Promise<Set<string>> {
      const marked = new Set<string>();
      for (let start = 0; start < messages.length; start += batchGetLimit) {
        const keys = messages.slice(start, start + batchGetLimit).map(({ room, seq }) => ({ room, seq }));
        const { data } = await deliveryMark.get(keys).go({ consistent: true });
        for (const mark of data) marked.add(keyOf(mark));
      }
      return marked;
    },

    /** The key {@link deliveredAmong}'s set holds for a message. */
    deliveryKey: keyOf,
  };
}
