import { monotonicFactory } from "ulid";
import type { Message } from "../entities/message";
import type { StoreContext } from "./context";
import { TransactionCanceledError } from "./errors";

export type PostResult = { message: Message; duplicate: boolean };
export type HistoryPage = { messages: Message[]; next: string | null };

export type NewMessage = {
  room: string;
  from: string;
  connectionId: string;
  session: string;
  text: string;
  clientId?: string;
};

/** Message history: storing a message (once per clientId) and paging back through a room. */
export function messageStore({ entities, settings, now, nowSeconds, transact }: StoreContext) {
  const { message, clientMessage } = entities;
  const ulid = monotonicFactory();

  return {
    /** Stores a message; with a clientId, a repeat from the same session returns the first message. */
    async post(input: NewMessage): Promise<PostResult> {
      const sentAt = new Date(now()).toISOString();
      const item: Message = {
        room: input.room,
        id: ulid(now()),
        from: input.from,
        connectionId: input.connectionId,
        text: input.text,
        sentAt,
        clientId: input.clientId,
        expiresAt: settings.messageTtlSeconds ? nowSeconds() + settings.messageTtlSeconds : undefined,
      };
      if (input.clientId === undefined) {
        await message.put(item).go();
        return { message: item, duplicate: false };
      }
      const key = { room: input.room, session: input.session, clientId: input.clientId };
      const result = await transact(({ message: msg, clientMessage: cm }) => [
        cm
          .put({
            ...key,
            messageId: item.id,
            sentAt,
            expiresAt: nowSeconds() + settings.clientIdTtlSeconds,
          })
          // Like create, but an expired record (not yet deleted by DynamoDB) no longer counts.
          .where((a, op) => `${op.notExists(a.messageId)} OR ${op.lte(a.expiresAt, nowSeconds())}`)
          .commit(),
        msg.put(item).commit(),
      ]).go();
      if (!result.canceled) return { message: item, duplicate: false };
      const seen = await clientMessage.get(key).go({ consistent: true });
      if (!seen.data) throw new TransactionCanceledError("message", result.data);
      const first = await message.get({ room: input.room, id: seen.data.messageId }).go({ consistent: true });
      return {
        message: first.data ?? { ...item, id: seen.data.messageId, sentAt: seen.data.sentAt },
        duplicate: true,
      };
    },

    /** Pattern 3: newest first, `before` an exclusive cursor from a previous page. */
    async history(room: string, { before, limit }: { before?: string; limit: number }): Promise<HistoryPage> {
      const query = message.query.byRoom({ room });
      // Expired messages are filtered by DynamoDB, so a page may need more than one read:
      // `count` keeps reading (pages of `limit + 1` items) until limit + 1 live messages or the end.
      // The extra message only tells whether there is a next page.
      const { data } = await (before ? query.lt({ id: before }) : query)
        .where((a, op) => `${op.notExists(a.expiresAt)} OR ${op.gt(a.expiresAt, nowSeconds())}`)
        .go({ order: "desc", limit: limit + 1, count: limit + 1 });
      const page = data.slice(0, limit);
      return { messages: page, next: data.length > limit ? page[page.length - 1].id : null };
    },
  };
}
