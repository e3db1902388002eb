import { ulid } from "ulid";
import type { Message } from "../entities/message";
import type { StoreContext } from "./context";
import { causeName, isConditionFailure, RoomBusyError, TransactionCanceledError } from "./errors";

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
export function messageStore({
  entities,
  settings,
  now,
  nowSeconds,
  live,
  writeOnce,
  conflicts,
}: StoreContext) {
  const { message, clientMessage, roomHead, messageId } = entities;
  const expiresAt = () =>
    settings.messageTtlSeconds ? nowSeconds() + settings.messageTtlSeconds : undefined;

  /**
   * The room's last seq, read strongly consistent (0 before its first event): the newest
   * event's, or the head's when every event expired and was deleted. The head is moved up
   * as each event is settled ({@link advanceHead}), so it may lag the newest event by the
   * events still being settled (or whose settling failed), never lead it.
   */
  async function lastSeq(room: string): Promise<number> {
    const [head, newest] = await Promise.all([
      headSeq(room),
      message.query.byRoom({ room }).go({ order: "desc", limit: 1, consistent: true }),
    ]);
    return Math.max(head, newest.data[0]?.seq ?? 0);
  }

  /** The room's head, read strongly consistent: its last seq but for events still being settled. */
  async function headSeq(room: string): Promise<number> {
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

  /** What a write of a room's next event came to: stored, the number taken meanwhile, or a repeated clientId. */
  type Outcome = "stored" | "raced" | "repeat";

  /** Puts an event under its seq, on the condition that the number is free. */
  async function putEvent(item: Message): Promise<Outcome> {
    try {
      await message.create(item).go({ response: "none" });
      return "stored";
    } catch (error) {
      // A transaction holding the key (a concurrent send with a clientId) fails a put with a conflict.
      if (isConditionFailure(error) || causeName(error) === "TransactionConflictException") return "raced";
      throw error;
    }
  }

  /** Puts a message and its clientId's record in one transaction: both or neither. */
  async function putWithClientId(
    item: Message,
    clientKey: { room: string; session: string; clientId: string },
  ): Promise<Outcome> {
    const written = await writeOnce(({ message: msg, clientMessage: cm }) => [
      cm
        .put({
          ...clientKey,
          messageId: item.id,
          seq: item.seq,
          sentAt: item.sentAt,
          expiresAt: nowSeconds() + settings.clientIdTtlSeconds,
        })
        // Like create, but an expired record (not yet deleted by DynamoDB) no longer counts.
        .where((a, op) => `${op.notExists(a.messageId)} OR ${op.lte(a.expiresAt, nowSeconds())}`)
        .commit(),
      msg.create(item).commit(),
    ]).go();
    if (!written.canceled) return "stored";
    const reasons = written.data as { code?: string }[];
    if (reasons[0]?.code === "ConditionalCheckFailed") return "repeat";
    if (reasons.some((r) => r.code === "ConditionalCheckFailed" || r.code === "TransactionConflict"))
      return "raced";
    throw new TransactionCanceledError("message", reasons);
  }

  return {
    lastSeq,

    /**
     * Stores a message as its room's next seq: its item is put under that seq on the
     * condition that the number is free (with a clientId, in one transaction with the
     * clientId's record, condition: none live). A concurrent write that took the number
     * first fails the condition: read again and retry, with jittered backoff, up to
     * `conflictAttempts`; then {@link RoomBusyError}. With a clientId, a repeat from the
     * same session returns the first message. `lastSeqRead` is the first attempt's
     * number, when the caller read it beside its own reads: the room's head (`sendReads`; a
     * retry reads {@link lastSeq}, which a head still being moved cannot mislead). The
     * head is moved ({@link advanceHead}) and the id indexed (`markSettled`) once the
     * message is delivered, off the path to its recipients.
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
        const outcome = clientKey ? await putWithClientId(item, clientKey) : await putEvent(item);
        if (outcome === "stored") return { message: item, duplicate: false };
        if (outcome === "repeat") {
          const first = await firstOf(clientKey!);
          if (first) return { message: first, duplicate: true };
        }
        if (attempt >= conflicts.attempts) throw new RoomBusyError(input.room, attempt);
        await conflicts.backoff(attempt);
      }
    },

    /**
     * Moves the event's room head up to its seq (never down), so the next writer's first
     * read finds the number taken, and the number stays taken after the event expires and
     * is deleted.
     */
    async advanceHead(event: Message): Promise<void> {
      try {
        await roomHead
          .update({ room: event.room })
          .set({ seq: event.seq })
          .where((a, op) => `${op.notExists(a.seq)} OR ${op.lt(a.seq, event.seq)}`)
          .go({ response: "none" });
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
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
     * seq (an `edit` or `delete` item, on the condition that the number is free, as
     * {@link post} stores a message) and updates the message item to its new state
     * (condition: not deleted meanwhile).
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
        const written = await writeOnce(({ message: msg }) => {
          const original = msg.patch({ room: target.room, seq: target.seq });
          const changed =
            input.kind === "edit"
              ? original.set({ text: input.text, editedAt: changedAt })
              : original.set({ deleted: true, deletedAt: changedAt }).remove(["text"]);
          return [msg.create(event).commit(), changed.where((a, op) => op.notExists(a.deleted)).commit()];
        }).go();
        if (!written.canceled) return { event };
        const reasons = written.data as { code?: string }[];
        // The message item is the second: its condition failing means it was deleted (or expired) meanwhile.
        if (reasons[1]?.code === "ConditionalCheckFailed") return "gone";
        const raced = reasons.some(
          (r) => r.code === "ConditionalCheckFailed" || r.code === "TransactionConflict",
        );
        if (!raced) throw new TransactionCanceledError("message change", reasons);
        if (attempt >= conflicts.attempts) throw new RoomBusyError(target.room, attempt);
        await conflicts.backoff(attempt);
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
