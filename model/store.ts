import type { EntityItem } from "electrodb";
import pLimit from "p-limit";
import { monotonicFactory } from "ulid";
import type { ConnectionEntity } from "./entities/connection";
import type { MembershipEntity } from "./entities/membership";
import type { MessageEntity } from "./entities/message";
import { roomDirectoryShards } from "./entities/room";
import { entityIdentifiers, type ChatService } from "./service";
import type { SliceRange } from "./slices";
import { compareSequenceNumbers } from "./sequence-numbers";

export type Connection = EntityItem<ConnectionEntity>;
export type Membership = EntityItem<MembershipEntity>;
export type Message = EntityItem<MessageEntity>;
export type RoomCount = { room: string; members: number };
export type RoomInfo = { members: number; queued: boolean };

export type NewConnection = {
  connectionId: string;
  name: string;
  userId?: string;
  sessionId?: string;
  defaultRoom: string;
};

export type JoinResult = "joined" | "already-member" | "too-many-rooms" | "no-connection";

export type PostResult = { message: Message; duplicate: boolean };

export type HistoryPage = { messages: Message[]; next: string | null };

/** A table item as the stream shows it, read as the entity it belongs to. */
export type StoredItem =
  | { entity: "message"; item: Message }
  | { entity: "membership"; item: Membership }
  | { entity: "connection"; item: Connection };

/** One membership appearing (+1) or disappearing (-1), at its stream sequence number. */
export type RoomChange = { room: string; delta: number; sequenceNumber: string };

/** What the handlers need from storage; each read is one GetItem or one Query. */
export interface ChatStore {
  /** Records the connection and its default room's membership: one transaction of two items. */
  connect(connection: NewConnection): Promise<Connection>;
  /** Pattern 5. Undefined when missing or expired. */
  getConnection(connectionId: string): Promise<Connection | undefined>;
  join(connection: Connection, room: string): Promise<JoinResult>;
  /** True when the connection was a member and is no longer. */
  leave(connectionId: string, room: string): Promise<boolean>;
  /** A live membership; with `expired`, also one expired but not yet deleted (still counted). */
  getMembership(
    room: string,
    connectionId: string,
    options?: { expired?: boolean },
  ): Promise<Membership | undefined>;
  /**
   * Pattern 1: live members of a room (or of one slice of it), every page. With `tidy`,
   * expired memberships met on the way are deleted (if still expired), so a lost
   * `$disconnect` stops counting long before DynamoDB's TTL gets to it (days on AWS).
   */
  membersOf(
    room: string,
    options?: { slice?: SliceRange; consistent?: boolean; tidy?: boolean },
  ): Promise<Membership[]>;
  /** Live members from the sort key `from` on, in key order, reading at most `limit` items. */
  membersFrom(
    room: string,
    from: string | undefined,
    limit: number,
  ): Promise<{ members: Membership[]; more: boolean }>;
  /** The room's directory entry: its member count and fan-out path; undefined for an empty room. */
  roomInfo(room: string): Promise<RoomInfo | undefined>;
  /** Pattern 4: rooms with at least one member. */
  listRooms(): Promise<RoomCount[]>;
  /** Stores a message; with a clientId, a repeat from the same session returns the first message. */
  post(input: {
    room: string;
    from: string;
    connectionId: string;
    session: string;
    text: string;
    clientId?: string;
  }): Promise<PostResult>;
  /** Pattern 3: newest first, `before` an exclusive cursor from a previous page. */
  history(room: string, options: { before?: string; limit: number }): Promise<HistoryPage>;
  /**
   * Counts one message against the connection's rate limit: false (and nothing
   * written) when `limit` messages were already sent in this `windowSeconds` window.
   */
  consumeRate(connectionId: string, limit: number, windowSeconds: number): Promise<boolean>;
  /** Removes the connection and its memberships; returns the removed record. Idempotent. */
  disconnect(connectionId: string): Promise<Connection | undefined>;
  /** Deletes a removed connection's memberships (the stream worker, after a 410 or TTL). */
  removeMemberships(connectionId: string, rooms: readonly string[]): Promise<void>;
  /**
   * Removes connections a post found gone (410), in bulk; connections younger than
   * `graceSeconds` are kept (API Gateway answers 410 until `$connect` returns).
   */
  removeGone(
    room: string,
    connectionIds: readonly string[],
    graceSeconds: number,
  ): Promise<{ removed: number; kept: number }>;
  /** Applies membership changes to the room directory, once each; returns the new counts. */
  applyRoomChanges(changes: readonly RoomChange[]): Promise<Map<string, number>>;
  /** From now until the room empties, its fan-out goes through the queue. */
  markQueued(room: string): Promise<void>;
  /** A stream image (unmarshalled) as a message, membership or connection; undefined for other items. */
  itemOf(image: Record<string, unknown>): StoredItem | undefined;
}

export type StoreOptions = {
  /** Milliseconds since the epoch; injectable so expiry can be tested. */
  now?: () => number;
  /** API Gateway closes a connection after 2 h: its items expire a little later. */
  connectionTtlSeconds?: number;
  /** How long a clientId is remembered. */
  clientIdTtlSeconds?: number;
  /** History retention; 0 keeps messages forever. */
  messageTtlSeconds?: number;
  maxRoomsPerConnection?: number;
  /** Transaction attempts when DynamoDB cancels one for a conflicting write. */
  conflictAttempts?: number;
};

export const defaultStoreOptions = {
  connectionTtlSeconds: 2 * 60 * 60 + 5 * 60,
  clientIdTtlSeconds: 24 * 60 * 60,
  messageTtlSeconds: 0,
  maxRoomsPerConnection: 20,
  conflictAttempts: 8,
};

/** The directory shard of a room: a stable hash of its name. */
export function roomShard(room: string): number {
  let hash = 0;
  for (const char of room) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash % roomDirectoryShards;
}

/** Builds the {@link ChatStore} over an ElectroDB service. */
export function createChatStore(service: ChatService, options: StoreOptions = {}): ChatStore {
  const settings = { ...defaultStoreOptions, ...options };
  const now = options.now ?? Date.now;
  const nowSeconds = () => Math.floor(now() / 1000);
  const ulid = monotonicFactory();
  const { connection, membership, message, clientMessage, room } = service.entities;
  const transact: ChatService["transaction"]["write"] = (fn) => {
    const write = service.transaction.write(fn);
    return { ...write, go: (options) => retryConflicts(() => write.go(options), settings.conflictAttempts) };
  };
  const live = <T extends { expiresAt?: number }>(item: T | null | undefined): item is T =>
    !!item && (item.expiresAt === undefined || item.expiresAt > nowSeconds());

  async function getConnection(connectionId: string) {
    const { data } = await connection.get({ connectionId }).go({ consistent: true });
    return live(data) ? data : undefined;
  }

  async function getMembership(roomName: string, connectionId: string, { expired = false } = {}) {
    const { data } = await membership.get({ room: roomName, connectionId }).go({ consistent: true });
    return (expired ? data : live(data) ? data : undefined) ?? undefined;
  }

  async function join(conn: Connection, roomName: string): Promise<JoinResult> {
    const result = await transact(({ connection: c, membership: m }) => [
      m
        .put({ room: roomName, connectionId: conn.connectionId, name: conn.name, expiresAt: conn.expiresAt })
        // Like create, but an expired membership (not yet deleted by DynamoDB) is replaced.
        .where((a, op) => `${op.notExists(a.name)} OR ${op.lte(a.expiresAt, nowSeconds())}`)
        .commit(),
      c
        .patch({ connectionId: conn.connectionId })
        .add({ roomCount: 1, rooms: [roomName] })
        .where((a, op) => op.lt(a.roomCount, settings.maxRoomsPerConnection))
        .commit(),
    ]).go();
    if (!result.canceled) return "joined";
    const [membershipWrite, connectionWrite] = result.data;
    if (membershipWrite.rejected) return "already-member";
    if (connectionWrite.rejected) {
      return (await getConnection(conn.connectionId)) ? "too-many-rooms" : "no-connection";
    }
    throw new Error(`join transaction canceled: ${JSON.stringify(result.data)}`);
  }

  async function leave(connectionId: string, roomName: string): Promise<boolean> {
    const result = await transact(({ connection: c, membership: m }) => [
      m
        .delete({ room: roomName, connectionId })
        .where((a, op) => op.exists(a.name))
        .commit(),
      c
        .patch({ connectionId })
        .subtract({ roomCount: 1 })
        .delete({ rooms: [roomName] })
        .where((a, op) => op.contains(a.rooms, roomName))
        .commit(),
    ]).go();
    if (!result.canceled) return true;
    if (result.data[0].rejected) return false;
    // The connection record is gone ($disconnect racing this leave): the membership goes alone.
    await membership.delete({ room: roomName, connectionId }).go();
    return true;
  }

  async function removeMemberships(connectionId: string, rooms: readonly string[]) {
    let keys = rooms.map((roomName) => ({ room: roomName, connectionId }));
    while (keys.length > 0) {
      const { unprocessed } = await membership.delete(keys).go();
      keys = unprocessed as typeof keys;
    }
  }

  async function disconnect(connectionId: string) {
    // The record goes first, returning the rooms it listed: a join racing this one
    // needs the record, so it can no longer add a room this cleanup would miss.
    const { data } = await retryItemConflicts(
      () => connection.delete({ connectionId }).go({ response: "all_old" }),
      settings.conflictAttempts,
    );
    const old = data as Connection | null;
    if (old?.rooms?.length) await removeMemberships(connectionId, old.rooms);
    return old ?? undefined;
  }

  /** Deletes memberships that are still expired: a rejoin may have replaced one meanwhile. */
  async function removeExpired(expired: Membership[]) {
    const limit = pLimit(16);
    await Promise.all(
      expired.map(({ room: roomName, connectionId }) =>
        limit(() =>
          membership
            .delete({ room: roomName, connectionId })
            .where((a, op) => op.lte(a.expiresAt, nowSeconds()))
            .go({ response: "none" })
            .catch((error: unknown) => {
              if (!isConditionFailure(error)) throw error;
            }),
        ),
      ),
    );
  }

  async function removeGone(roomName: string, connectionIds: readonly string[], graceSeconds: number) {
    const cutoff = now() - graceSeconds * 1000;
    const limit = pLimit(16);
    const outcomes = await Promise.all(
      connectionIds.map((connectionId) =>
        limit(async () => {
          try {
            const { data } = await connection
              .delete({ connectionId })
              .where((a, op) => `${op.notExists(a.connectedAt)} OR ${op.lt(a.connectedAt, cutoff)}`)
              .go({ response: "all_old" });
            const old = data as Connection | null;
            // No record (already cleaned up or expired): the membership that was posted to goes alone.
            await removeMemberships(connectionId, old?.rooms?.length ? old.rooms : [roomName]);
            return "removed" as const;
          } catch (error) {
            if (isConditionFailure(error)) return "kept" as const;
            throw error;
          }
        }),
      ),
    );
    const removed = outcomes.filter((o) => o === "removed").length;
    return { removed, kept: outcomes.length - removed };
  }

  async function applyRoomChange(roomName: string, changes: RoomChange[]): Promise<number> {
    const key = { shard: roomShard(roomName), room: roomName };
    for (let attempt = 1; ; attempt++) {
      const { data: entry } = await room.get(key).go({ consistent: true });
      // A retried stream batch repeats changes already counted: count each sequence number once.
      const fresh = changes.filter(
        (c) => !entry?.lastSeq || compareSequenceNumbers(c.sequenceNumber, entry.lastSeq) > 0,
      );
      if (fresh.length === 0) return entry?.members ?? 0;
      const members = Math.max(0, (entry?.members ?? 0) + fresh.reduce((sum, c) => sum + c.delta, 0));
      const lastSeq = fresh[fresh.length - 1].sequenceNumber;
      const unchanged = (
        a: { lastSeq: unknown },
        op: { notExists: (x: unknown) => string; eq: (x: unknown, v: unknown) => string },
      ) => (entry?.lastSeq ? op.eq(a.lastSeq, entry.lastSeq) : op.notExists(a.lastSeq));
      try {
        if (members === 0) {
          await room
            .delete(key)
            .where((a, op) => unchanged(a, op))
            .go();
        } else {
          await room
            .upsert({ ...key, members, lastSeq })
            .where((a, op) => unchanged(a, op))
            .go();
        }
        return members;
      } catch (error) {
        // Another writer moved the entry (only a stream retry racing itself): read it again.
        if (!isConditionFailure(error) || attempt >= settings.conflictAttempts) throw error;
      }
    }
  }

  return {
    async connect(input) {
      const item: Connection = {
        ...input,
        rooms: [input.defaultRoom],
        roomCount: 1,
        connectedAt: now(),
        expiresAt: nowSeconds() + settings.connectionTtlSeconds,
      };
      await transact(({ connection: c, membership: m }) => [
        c.put(item).commit(),
        m
          .put({
            room: input.defaultRoom,
            connectionId: input.connectionId,
            name: input.name,
            expiresAt: item.expiresAt,
          })
          .commit(),
      ])
        .go()
        .then(assertCommitted("connect"));
      return item;
    },

    getConnection,
    join,
    leave,
    getMembership,

    async membersOf(roomName, { slice, consistent = false, tidy = false } = {}) {
      // No filter expression: it would cost the same reads; expired members are skipped here.
      const query = membership.query.byRoom({ room: roomName });
      const { data } = await (
        slice ? query.between({ connectionId: slice.from }, { connectionId: slice.to }) : query
      ).go({ pages: "all", consistent });
      if (tidy) await removeExpired(data.filter((m) => !live(m)));
      return data.filter(live);
    },

    async membersFrom(roomName, from, limit) {
      const query = membership.query.byRoom({ room: roomName });
      const { data, cursor } = await (from ? query.gte({ connectionId: from }) : query).go({ limit });
      return { members: data.filter(live), more: cursor !== null };
    },

    async roomInfo(roomName) {
      const { data } = await room.get({ shard: roomShard(roomName), room: roomName }).go();
      return data ? { members: data.members, queued: data.queued === true } : undefined;
    },

    async listRooms() {
      const shards = await Promise.all(
        Array.from({ length: roomDirectoryShards }, (_, shard) =>
          room.query.byShard({ shard }).go({ pages: "all" }),
        ),
      );
      return shards
        .flatMap(({ data }) => data)
        .filter((r) => r.members > 0)
        .map(({ room: name, members }) => ({ room: name, members }))
        .sort((a, b) => (a.room < b.room ? -1 : a.room > b.room ? 1 : 0));
    },

    async post(input) {
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
      if (!seen.data) throw new Error(`message transaction canceled: ${JSON.stringify(result.data)}`);
      const first = await message.get({ room: input.room, id: seen.data.messageId }).go({ consistent: true });
      return {
        message: first.data ?? { ...item, id: seen.data.messageId, sentAt: seen.data.sentAt },
        duplicate: true,
      };
    },

    async history(roomName, { before, limit }) {
      const query = message.query.byRoom({ room: roomName });
      // Expired messages are filtered by DynamoDB, so a page may need more than one read:
      // `count` keeps reading (pages of `limit + 1` items) until limit + 1 live messages or the end.
      // The extra message only tells whether there is a next page.
      const { data } = await (before ? query.lt({ id: before }) : query)
        .where((a, op) => `${op.notExists(a.expiresAt)} OR ${op.gt(a.expiresAt, nowSeconds())}`)
        .go({ order: "desc", limit: limit + 1, count: limit + 1 });
      const page = data.slice(0, limit);
      return { messages: page, next: data.length > limit ? page[page.length - 1].id : null };
    },

    async consumeRate(connectionId, limit, windowSeconds) {
      const window = Math.floor(nowSeconds() / windowSeconds);
      // Conditional writes, no read: count within the current window, else open a new one.
      // When two messages race to open the window, the loser counts in the window the winner opened.
      const countInWindow = () =>
        connection
          .patch({ connectionId })
          .add({ rateCount: 1 })
          .where((a, op) => `${op.eq(a.rateWindow, window)} AND ${op.lt(a.rateCount, limit)}`);
      const openWindow = () =>
        connection
          .patch({ connectionId })
          .set({ rateWindow: window, rateCount: 1 })
          .where((a, op) => `${op.notExists(a.rateWindow)} OR ${op.lt(a.rateWindow, window)}`);
      for (const attempt of [countInWindow, openWindow, countInWindow]) {
        try {
          await attempt().go({ response: "none" });
          return true;
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
        }
      }
      return false;
    },

    disconnect,
    removeMemberships,
    removeGone,

    async applyRoomChanges(changes) {
      const byRoom = new Map<string, RoomChange[]>();
      for (const change of changes) byRoom.set(change.room, [...(byRoom.get(change.room) ?? []), change]);
      const counts = new Map<string, number>();
      await Promise.all(
        [...byRoom].map(async ([roomName, roomChanges]) => {
          counts.set(roomName, await applyRoomChange(roomName, roomChanges));
        }),
      );
      return counts;
    },

    itemOf(image) {
      const entity = image[entityIdentifiers.entity];
      if (entity !== "message" && entity !== "membership" && entity !== "connection") return undefined;
      const parsed =
        entity === "message"
          ? message.parse({ Item: image })
          : entity === "membership"
            ? membership.parse({ Item: image })
            : connection.parse({ Item: image });
      return parsed.data ? ({ entity, item: parsed.data } as StoredItem) : undefined;
    },

    async markQueued(roomName) {
      await room
        .patch({ shard: roomShard(roomName), room: roomName })
        .set({ queued: true })
        .go({ response: "none" })
        .catch((error: unknown) => {
          // The room emptied meanwhile: nothing to mark.
          if (!isConditionFailure(error)) throw error;
        });
    },
  };
}

/**
 * DynamoDB cancels a transaction that races another on the same item: retry those
 * with jittered backoff. Running out of attempts is an error, never a silent "no".
 * Conditions that failed are the caller's to read.
 */
async function retryConflicts<T extends { canceled: boolean; data: unknown }>(
  run: () => Promise<T>,
  attempts: number,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const result = await run();
    const conflicted =
      result.canceled &&
      (result.data as { code?: string }[]).some((reason) => reason.code === "TransactionConflict");
    if (!conflicted) return result;
    if (attempt >= attempts) {
      throw new Error(
        `transaction still conflicting after ${attempts} attempts: ${JSON.stringify(result.data)}`,
      );
    }
    await conflictBackoff(attempt);
  }
}

/**
 * A single-item write that meets a transaction holding its item fails with
 * TransactionConflictException, which the SDK does not retry (it is not a throttle):
 * retry it as a conflicting transaction is retried.
 */
async function retryItemConflicts<T>(run: () => Promise<T>, attempts: number): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (causeName(error) !== "TransactionConflictException" || attempt >= attempts) throw error;
    }
    await conflictBackoff(attempt);
  }
}

const conflictBackoff = (attempt: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * 2 ** attempt));

/** The DynamoDB error behind an ElectroDB error. */
const causeName = (error: unknown) => (error as { cause?: { name?: string } }).cause?.name;

const isConditionFailure = (error: unknown) => causeName(error) === "ConditionalCheckFailedException";

function assertCommitted(operation: string) {
  return (result: { canceled: boolean; data: unknown }) => {
    if (result.canceled) throw new Error(`${operation} transaction canceled: ${JSON.stringify(result.data)}`);
  };
}
