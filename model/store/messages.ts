import { ulid } from "ulid";
import type { Message } from "../entities/message";
import { conflictBackoff } from "./conflicts";
import type { StoreContext } from "./context";
import { RoomBusyError, TransactionCanceledError } from "./errors";

export type PostResult = { message: Message; duplicate: boolean };

export type NewMessage = {
  room: string;
  from: string;
  /** The sender's name comes from a verified token (not a guest). */
  verified?: boolean;
  connectionId: string;
  session: string;
  /** Who may edit or delete it: the sender's principal (absent: only its connection, `conn:<id>`). */
  author?: string;
  text: string;
  clientId?: string;
};

/** An edit or delete of a stored message, by the connection that makes it. */
export type MessageChange = {
  target: Message;
  from: string;
  verified?: boolean;
  connectionId: string;
} & ({ kind: "edit"; text: string } | { kind: "delete" });

/** The change's event as stored, or `gone`: the message was deleted (or expired) meanwhile. */
export type ChangeResult = { event: Message } | "gone";

/** Where one history read starts: below `before`, above `after`, or (neither) at the newest. */
export type HistoryRange = { before?: number; after?: number };

/** Messages in read order; `next` continues the range, null at its end. */
export type HistoryPage = { messages: Message[]; next: number | null };

/** What a page may still hold: `take` counts a message in if it fits; `left` is the room left (bytes). */
export type ReadBudget = { take(message: Message): boolean; readonly left: number };

/** Messages a history page reads first, before it knows their size. */
const firstReadSize = 10;

/**
 * Message history: storing a message under its room's next `seq` (once per clientId)
 * and reading a room's events by seq.
 */
export function messageStore({ entities, settings, now, nowSeconds, live, writeOnce }: StoreContext) {
  const { message, clientMessage, roomHead, messageId } = entities;
  const expiresAt = () =>
    settings.messageTtlSeconds ? nowSeconds() + settings.messageTtlSeconds : undefined;

  /** The room's last seq, read strongly consistent (0 before its first message). */
  async function lastSeq(room: string): Promise<number> {
    const { data } = await roomHead.get({ room }).go({ consistent: true });
    return data?.seq ?? 0;
  }

  /** The first message of a clientId already seen in this session, if any. */
  async function firstOf(key: { room: string; session: string; clientId: string }) {
    const seen = await clientMessage.get(key).go({ consistent: true });
    if (!live(seen.data)) return undefined;
    const first = await message.get({ room: key.room, seq: seen.data.seq }).go({ consistent: true });
    return first.data ?? undefined;
  }

  return {
    lastSeq,

    /**
     * Stores a message as its room's next seq: one transaction moves the room's head from
     * the seq read to the next and puts the message (and, with a clientId, its record).
     * A concurrent send that took the number first cancels it: read again and retry, with
     * jittered backoff, up to `conflictAttempts`; then {@link RoomBusyError}. With a
     * clientId, a repeat from the same session returns the first message. `lastSeqRead`
     * is the first attempt's {@link lastSeq}, when the caller read it beside its own reads.
     * @throws RoomBusyError when every attempt met a concurrent send
     */
    async post(input: NewMessage, { lastSeqRead }: { lastSeqRead?: number } = {}): Promise<PostResult> {
      const id = ulid(now());
      const clientKey =
        input.clientId === undefined
          ? undefined
          : { room: input.room, session: input.session, clientId: input.clientId };
      for (let attempt = 1; ; attempt++) {
        // The caller may have made the first read beside its own (one round trip fewer).
        const last = attempt === 1 && lastSeqRead !== undefined ? lastSeqRead : await lastSeq(input.room);
        const item: Message = {
          room: input.room,
          seq: last + 1,
          kind: "message",
          id,
          from: input.from,
          ...(input.verified && { verified: true }),
          connectionId: input.connectionId,
          author: input.author,
          text: input.text,
          sentAt: new Date(now()).toISOString(),
          clientId: input.clientId,
          expiresAt: expiresAt(),
        };
        const written = await writeOnce(
          ({ message: msg, clientMessage: cm, roomHead: head, messageId: ids }) => [
            ...(clientKey
              ? [
                  cm
                    .put({
                      ...clientKey,
                      messageId: id,
                      seq: item.seq,
                      sentAt: item.sentAt,
                      expiresAt: nowSeconds() + settings.clientIdTtlSeconds,
                    })
                    // Like create, but an expired record (not yet deleted by DynamoDB) no longer counts.
                    .where((a, op) => `${op.notExists(a.messageId)} OR ${op.lte(a.expiresAt, nowSeconds())}`)
                    .commit(),
                ]
              : []),
            last === 0
              ? head.create({ room: input.room, seq: 1 }).commit()
              : head
                  .patch({ room: input.room })
                  .set({ seq: item.seq })
                  .where((a, op) => op.eq(a.seq, last))
                  .commit(),
            msg.create(item).commit(),
            ids.create({ room: item.room, id, seq: item.seq, expiresAt: item.expiresAt }).commit(),
          ],
        ).go();
        if (!written.canceled) return { message: item, duplicate: false };
        const reasons = written.data as { code?: string }[];
        // The clientId's record is the first item: its condition failing means a repeat.
        if (clientKey && reasons[0]?.code === "ConditionalCheckFailed") {
          const first = await firstOf(clientKey);
          if (first) return { message: first, duplicate: true };
        }
        const raced = reasons.some(
          (r) => r.code === "ConditionalCheckFailed" || r.code === "TransactionConflict",
        );
        if (!raced) throw new TransactionCanceledError("message", reasons);
        if (attempt >= settings.conflictAttempts) throw new RoomBusyError(input.room, attempt);
        await conflictBackoff(attempt);
      }
    },

    /** A live message of the room by its id (not an edit or delete, not a tombstone), read consistent. */
    async findMessage(room: string, id: string): Promise<Message | undefined> {
      const { data: where } = await messageId.get({ room, id }).go({ consistent: true });
      if (!live(where)) return undefined;
      const { data } = await message.get({ room, seq: where.seq }).go({ consistent: true });
      return live(data) && data.kind === "message" && !data.deleted ? data : undefined;
    },

    /**
     * Edits or deletes a message: one transaction stores the change as the room's next
     * seq (an `edit` or `delete` item, the head moved as {@link post} moves it) and
     * updates the message item to its new state (condition: not deleted meanwhile).
     * Contention is retried as `post` retries it, then {@link RoomBusyError}.
     * @throws RoomBusyError when every attempt met a concurrent write to the room
     */
    async change(
      input: MessageChange,
      { lastSeqRead }: { lastSeqRead?: number } = {},
    ): Promise<ChangeResult> {
      const { target } = input;
      const id = ulid(now());
      for (let attempt = 1; ; attempt++) {
        const last = attempt === 1 && lastSeqRead !== undefined ? lastSeqRead : await lastSeq(target.room);
        const changedAt = new Date(now()).toISOString();
        const event: Message = {
          room: target.room,
          seq: last + 1,
          kind: input.kind,
          id,
          from: input.from,
          ...(input.verified && { verified: true }),
          connectionId: input.connectionId,
          ...(input.kind === "edit" && { text: input.text }),
          sentAt: changedAt,
          target: target.id,
          expiresAt: expiresAt(),
        };
        const written = await writeOnce(({ message: msg, roomHead: head }) => {
          const original = msg.patch({ room: target.room, seq: target.seq });
          const changed =
            input.kind === "edit"
              ? original.set({ text: input.text, editedAt: changedAt })
              : original.set({ deleted: true, deletedAt: changedAt }).remove(["text"]);
          return [
            head
              .patch({ room: target.room })
              .set({ seq: event.seq })
              .where((a, op) => op.eq(a.seq, last))
              .commit(),
            msg.create(event).commit(),
            changed.where((a, op) => op.notExists(a.deleted)).commit(),
          ];
        }).go();
        if (!written.canceled) return { event };
        const reasons = written.data as { code?: string }[];
        // The message item is the third: its condition failing means it was deleted (or expired) meanwhile.
        if (reasons[2]?.code === "ConditionalCheckFailed") return "gone";
        const raced = reasons.some(
          (r) => r.code === "ConditionalCheckFailed" || r.code === "TransactionConflict",
        );
        if (!raced) throw new TransactionCanceledError("message change", reasons);
        if (attempt >= settings.conflictAttempts) throw new RoomBusyError(target.room, attempt);
        await conflictBackoff(attempt);
      }
    },

    /**
     * A page of a room's history: messages newest first below `before` (or from the
     * newest), or every event (edits and deletes too) oldest first above `after`; at most `limit` messages and, with a `budget`, only those
     * it takes. It reads in small Queries sized to what is still wanted and fits (the
     * first {@link firstReadSize}, then by the average size read so far), so a page of
     * big messages reads little more than it returns. `next` continues the same way
     * (a `before` value, or an `after` value with `after`); null at the end.
     */
    async history(
      room: string,
      {
        before,
        after,
        limit,
        consistent = false,
        budget,
      }: HistoryRange & { limit: number; consistent?: boolean; budget?: ReadBudget },
    ): Promise<HistoryPage> {
      const ascending = after !== undefined;
      const query = message.query.byRoom({ room });
      const range = (
        ascending
          ? query.gt({ seq: after })
          : before !== undefined
            ? query.between({ seq: 0 }, { seq: before - 1 })
            : query
      ).where((a, op) => {
        const unexpired = `(${op.notExists(a.expiresAt)} OR ${op.gt(a.expiresAt, nowSeconds())})`;
        // Read backwards, a page has nothing to apply an edit or delete to: its messages show their state.
        return ascending ? unexpired : `${unexpired} AND ${op.eq(a.kind, "message")}`;
      });
      const messages: Message[] = [];
      let cursor: string | null = null;
      let bytesRead = 0;
      let itemsRead = 0;
      for (;;) {
        // One more than wanted tells whether a next page exists.
        const wanted = limit - messages.length + 1;
        const fitting = !budget
          ? wanted
          : itemsRead > 0
            ? Math.ceil(budget.left / (bytesRead / itemsRead)) + 1
            : firstReadSize;
        const read: { data: Message[]; cursor: string | null } = await range.go({
          order: ascending ? "asc" : "desc",
          limit: Math.max(1, Math.min(wanted, fitting)),
          consistent,
          cursor,
        });
        for (const item of read.data) {
          bytesRead += Buffer.byteLength(JSON.stringify(item));
          itemsRead++;
          if (messages.length === limit || (budget && !budget.take(item))) {
            return { messages, next: ascending ? item.seq - 1 : item.seq + 1 };
          }
          messages.push(item);
        }
        if (!read.cursor) return { messages, next: null };
        cursor = read.cursor;
      }
    },
  };
}
