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
export function deliveryMarkStore({ entities, nowSeconds }: StoreContext) {
  const { deliveryMark } = entities;
  return {
    /** Records that the message's delivery is settled (idempotent). */
    async markDelivered(message: MessageKey): Promise<void> {
      await deliveryMark
        .put({ room: message.room, seq: message.seq, expiresAt: nowSeconds() + markTtlSeconds })
        .go({ response: "none" });
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
