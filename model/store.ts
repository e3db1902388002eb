import type { EntityItem } from "electrodb";
import { monotonicFactory } from "ulid";
import type { ConnectionEntity } from "./entities/connection";
import type { MembershipEntity } from "./entities/membership";
import type { MessageEntity } from "./entities/message";
import type { ChatService } from "./service";

export type Connection = EntityItem<ConnectionEntity>;
export type Membership = EntityItem<MembershipEntity>;
export type Message = EntityItem<MessageEntity>;
export type RoomCount = { room: string; members: number };

export type NewConnection = {
  connectionId: string;
  name: string;
  userId?: string;
  defaultRoom: string;
};

export type JoinResult = "joined" | "already-member" | "too-many-rooms" | "no-connection";

export type PostResult = { message: Message; duplicate: boolean };

export type HistoryPage = { messages: Message[]; next: string | null };

/** What the handlers need from storage; each read is one GetItem or one Query. */
export interface ChatStore {
  /** Records the connection and joins its default room, in one transaction. */
  connect(connection: NewConnection): Promise<Connection>;
  /** Pattern 5. Undefined when missing or expired. */
  getConnection(connectionId: string): Promise<Connection | undefined>;
  join(connection: Connection, room: string): Promise<JoinResult>;
  /** True when the connection was a member and is no longer. */
  leave(connectionId: string, room: string): Promise<boolean>;
  getMembership(room: string, connectionId: string): Promise<Membership | undefined>;
  /** Pattern 1: live members of a room, every page; expired memberships met on the way are removed. */
  membersOf(room: string): Promise<Membership[]>;
  /** Pattern 2: rooms a connection is in (including expired memberships, for cleanup). */
  roomsOf(connectionId: string): Promise<string[]>;
  /** Pattern 4: rooms with at least one member. */
  listRooms(): Promise<RoomCount[]>;
  /** Stores a message; with a clientId, a repeat returns the first message as a duplicate. */
  post(input: {
    room: string;
    from: string;
    connectionId: string;
    sender: string;
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
  /** Removes the connection and every membership; returns the rooms it left. Idempotent. */
  disconnect(connectionId: string): Promise<string[]>;
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
};

export const defaultStoreOptions = {
  connectionTtlSeconds: 2 * 60 * 60 + 5 * 60,
  clientIdTtlSeconds: 24 * 60 * 60,
  messageTtlSeconds: 0,
  maxRoomsPerConnection: 20,
};

/** Builds the {@link ChatStore} over an ElectroDB service. */
export function createChatStore(service: ChatService, options: StoreOptions = {}): ChatStore {
  const settings = { ...defaultStoreOptions, ...options };
  const now = options.now ?? Date.now;
  const nowSeconds = () => Math.floor(now() / 1000);
  const ulid = monotonicFactory();
  const { connection, membership, message, clientMessage, room } = service.entities;
  const transact: ChatService["transaction"]["write"] = (fn) => {
    const write = service.transaction.write(fn);
    return { ...write, go: (options) => retryConflicts(() => write.go(options)) };
  };
  const live = <T extends { expiresAt?: number }>(item: T | null | undefined): item is T =>
    !!item && (item.expiresAt === undefined || item.expiresAt > nowSeconds());

  async function getConnection(connectionId: string) {
    const { data } = await connection.get({ connectionId }).go({ consistent: true });
    return live(data) ? data : undefined;
  }

  async function join(conn: Connection, roomName: string): Promise<JoinResult> {
    const result = await transact(({ connection: c, membership: m, room: r }) => [
      m
        .create({
          room: roomName,
          connectionId: conn.connectionId,
          name: conn.name,
          expiresAt: conn.expiresAt,
        })
        .commit(),
      c
        .patch({ connectionId: conn.connectionId })
        .add({ roomCount: 1 })
        .where((a, op) => op.lt(a.roomCount, settings.maxRoomsPerConnection))
        .commit(),
      r.upsert({ room: roomName }).add({ members: 1 }).commit(),
    ]).go();
    if (!result.canceled) return "joined";
    const [membershipWrite, connectionWrite] = result.data;
    if (membershipWrite.rejected) {
      // The membership exists: expired ones are replaced, live ones make join idempotent.
      const existing = await getMembership(roomName, conn.connectionId);
      if (existing) return "already-member";
      await removeMembership(conn.connectionId, roomName);
      return join(conn, roomName);
    }
    if (connectionWrite.rejected) {
      return (await getConnection(conn.connectionId)) ? "too-many-rooms" : "no-connection";
    }
    throw new Error(`join transaction canceled: ${JSON.stringify(result.data)}`);
  }

  /**
   * Deletes one membership and moves the counts with it; false if it was not there.
   * The connection's own count moves too while its record exists.
   */
  async function removeMembership(
    connectionId: string,
    roomName: string,
    connectionExists = true,
  ): Promise<boolean> {
    const result = await transact(({ connection: c, membership: m, room: r }) => [
      m
        .delete({ room: roomName, connectionId })
        .where((a, op) => op.exists(a.connectionId))
        .commit(),
      r.update({ room: roomName }).subtract({ members: 1 }).commit(),
      ...(connectionExists
        ? [
            c
              .update({ connectionId })
              .subtract({ roomCount: 1 })
              .where((a, op) => op.exists(a.connectionId))
              .commit(),
          ]
        : []),
    ]).go();
    if (!result.canceled) return true;
    if (result.data[0].rejected) return false;
    // The connection record is already gone ($disconnect racing a leave): drop just the membership.
    return connectionExists && removeMembership(connectionId, roomName, false);
  }

  async function roomsOf(connectionId: string) {
    const { data } = await membership.query.byConnection({ connectionId }).go({ pages: "all" });
    return data.map((m) => m.room);
  }

  async function getMembership(roomName: string, connectionId: string) {
    const { data } = await membership.get({ room: roomName, connectionId }).go({ consistent: true });
    return live(data) ? data : undefined;
  }

  return {
    async connect(input) {
      const item: Connection = {
        ...input,
        roomCount: 1,
        connectedAt: now(),
        expiresAt: nowSeconds() + settings.connectionTtlSeconds,
      };
      await transact(({ connection: c, membership: m, room: r }) => [
        c.put(item).commit(),
        m
          .put({
            room: input.defaultRoom,
            connectionId: input.connectionId,
            name: input.name,
            expiresAt: item.expiresAt,
          })
          .commit(),
        r.upsert({ room: input.defaultRoom }).add({ members: 1 }).commit(),
      ])
        .go()
        .then(assertCommitted("connect"));
      return item;
    },

    getConnection,
    join,
    leave: (connectionId, roomName) => removeMembership(connectionId, roomName),
    getMembership,

    async membersOf(roomName) {
      // No filter expression: it would cost the same reads and hide the expired items,
      // which DynamoDB deletes lazily and without moving the room's count; tidy them here.
      const { data } = await membership.query.byRoom({ room: roomName }).go({ pages: "all" });
      for (const stale of data.filter((m) => !live(m as Membership)))
        await removeMembership(stale.connectionId, roomName);
      return data.filter(live);
    },

    roomsOf,

    async listRooms() {
      const { data } = await room.query
        .all({})
        .where((a, op) => op.gt(a.members, 0))
        .go({ pages: "all" });
      return data.map(({ room: name, members }) => ({ room: name, members }));
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
      const key = { room: input.room, sender: input.sender, clientId: input.clientId };
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
      // Two conditional writes, no read: count within the current window, else open a new one.
      const attempts = [
        () =>
          connection
            .patch({ connectionId })
            .add({ rateCount: 1 })
            .where((a, op) => `${op.eq(a.rateWindow, window)} AND ${op.lt(a.rateCount, limit)}`),
        () =>
          connection
            .patch({ connectionId })
            .set({ rateWindow: window, rateCount: 1 })
            .where((a, op) => `${op.notExists(a.rateWindow)} OR ${op.lt(a.rateWindow, window)}`),
      ];
      for (const attempt of attempts) {
        try {
          await attempt().go({ response: "none" });
          return true;
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
        }
      }
      return false;
    },

    async disconnect(connectionId) {
      // The record goes first: a join racing this one needs it, so it can no longer commit.
      await connection.delete({ connectionId }).go();
      // Not `this.roomsOf`: handlers may call `disconnect` unbound.
      const rooms = await roomsOf(connectionId);
      const left: string[] = [];
      for (const roomName of rooms) {
        if (await removeMembership(connectionId, roomName, false)) left.push(roomName);
      }
      return left;
    },
  };
}

/**
 * DynamoDB cancels a transaction that races another on the same item (a room's
 * counter during a join storm): retry those with jittered backoff; conditions
 * that failed are the caller's to read.
 */
async function retryConflicts<T extends { canceled: boolean; data: unknown }>(
  run: () => Promise<T>,
  attempts = 8,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const result = await run();
    const conflicted =
      result.canceled &&
      (result.data as { code?: string }[]).some((reason) => reason.code === "TransactionConflict");
    if (!conflicted || attempt >= attempts) return result;
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * 2 ** attempt));
  }
}

function isConditionFailure(error: unknown): boolean {
  const cause = (error as { cause?: { name?: string } }).cause;
  return cause?.name === "ConditionalCheckFailedException";
}

function assertCommitted(operation: string) {
  return (result: { canceled: boolean; data: unknown }) => {
    if (result.canceled) throw new Error(`${operation} transaction canceled: ${JSON.stringify(result.data)}`);
  };
}
