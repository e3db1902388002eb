import pLimit from "p-limit";
import type { Connection } from "../entities/connection";
import type { Membership } from "../entities/membership";
import type { ChatService } from "../service";
import type { SliceRange } from "../slices";
import type { StoreContext } from "./context";
import { isConditionFailure, TransactionCanceledError } from "./errors";

export type JoinResult = "joined" | "already-member" | "too-many-rooms" | "no-connection" | "guard-failed";

type TransactionWrite = ChatService["transaction"]["write"];
type TransactionEntities = Parameters<Parameters<TransactionWrite>[0]>[0];
/**
 * A condition the join commits on, or an item it writes with it (store/access.ts): the
 * room's access unchanged since it was read, no ban, the invitation still valid.
 */
export type JoinGuard = (
  entities: TransactionEntities,
) => ReturnType<Parameters<TransactionWrite>[0]>[number];

/** What a membership keeps of its connection's identity: with a token, the verified mark and the subject. */
export const memberIdentity = ({ userId }: Pick<Connection, "userId">) =>
  userId ? { verified: true, userId } : {};

/**
 * A join's two writes: the membership (like create, but an expired one not yet deleted
 * by DynamoDB is replaced) and the connection's room list, within its rooms cap.
 */
export function joinWrites(
  { connection: c, membership: m }: TransactionEntities,
  conn: Connection,
  room: string,
  { nowSeconds, maxRoomsPerConnection }: { nowSeconds: number; maxRoomsPerConnection: number },
) {
  return [
    m
      .put({
        room,
        connectionId: conn.connectionId,
        name: conn.name,
        ...memberIdentity(conn),
        expiresAt: conn.expiresAt,
      })
      .where((a, op) => `${op.notExists(a.name)} OR ${op.lte(a.expiresAt, nowSeconds)}`)
      .commit(),
    c
      .patch({ connectionId: conn.connectionId })
      .add({ roomCount: 1, rooms: [room] })
      .where((a, op) => op.lt(a.roomCount, maxRoomsPerConnection))
      .commit(),
  ];
}

/** Room memberships: join, leave and the reads a broadcast and `members` make. */
export function membershipStore(
  { entities, settings, nowSeconds, transact, live }: StoreContext,
  getConnection: (connectionId: string) => Promise<Connection | undefined>,
) {
  const { membership } = entities;

  /** Deletes memberships that are still expired: a rejoin may have replaced one meanwhile. */
  async function removeExpired(expired: Membership[]) {
    const limit = pLimit(16);
    await Promise.all(
      expired.map(({ room, connectionId }) =>
        limit(() =>
          membership
            .delete({ room, connectionId })
            .where((a, op) => op.lte(a.expiresAt, nowSeconds()))
            .go({ response: "none" })
            .catch((error: unknown) => {
              if (!isConditionFailure(error)) throw error;
            }),
        ),
      ),
    );
  }

  return {
    /** Joins `room`; with `guards`, only if each of them holds ("guard-failed": read the room's access again). */
    async join(conn: Connection, room: string, guards: readonly JoinGuard[] = []): Promise<JoinResult> {
      const result = await transact((entities) => [
        ...joinWrites(entities, conn, room, {
          nowSeconds: nowSeconds(),
          maxRoomsPerConnection: settings.maxRoomsPerConnection,
        }),
        ...guards.map((guard) => guard(entities)),
      ]).go();
      if (!result.canceled) return "joined";
      const [membershipWrite, connectionWrite, ...guardWrites] = result.data as { rejected: boolean }[];
      if (membershipWrite.rejected) return "already-member";
      if (connectionWrite.rejected) {
        return (await getConnection(conn.connectionId)) ? "too-many-rooms" : "no-connection";
      }
      if (guardWrites.some((write) => write.rejected)) return "guard-failed";
      throw new TransactionCanceledError("join", result.data);
    },

    /** True when the connection was a member and is no longer. */
    async leave(connectionId: string, room: string): Promise<boolean> {
      const result = await transact(({ connection: c, membership: m }) => [
        m
          .delete({ room, connectionId })
          .where((a, op) => op.exists(a.name))
          .commit(),
        c
          .patch({ connectionId })
          .subtract({ roomCount: 1 })
          .delete({ rooms: [room] })
          .where((a, op) => op.contains(a.rooms, room))
          .commit(),
      ]).go();
      if (!result.canceled) return true;
      if (result.data[0].rejected) return false;
      // The connection record is gone ($disconnect racing this leave): the membership goes alone.
      await membership.delete({ room, connectionId }).go();
      return true;
    },

    /** A live membership; with `expired`, also one expired but not yet deleted (still counted). */
    async getMembership(
      room: string,
      connectionId: string,
      { expired = false }: { expired?: boolean } = {},
    ): Promise<Membership | undefined> {
      const { data } = await membership.get({ room, connectionId }).go({ consistent: true });
      return (expired ? data : live(data) ? data : undefined) ?? undefined;
    },

    /**
     * Pattern 1: live members of a room (or of one slice of it), every page. With `tidy`,
     * expired memberships met on the way are deleted (if still expired), so a lost
     * `$disconnect` stops counting long before DynamoDB's TTL gets to it (days on AWS).
     */
    async membersOf(
      room: string,
      {
        slice,
        consistent = false,
        tidy = false,
      }: { slice?: SliceRange; consistent?: boolean; tidy?: boolean } = {},
    ): Promise<Membership[]> {
      // No filter expression: it would cost the same reads; expired members are skipped here.
      const query = membership.query.byRoom({ room });
      const { data } = await (
        slice ? query.between({ connectionId: slice.from }, { connectionId: slice.to }) : query
      ).go({ pages: "all", consistent });
      if (tidy) await removeExpired(data.filter((m) => !live(m)));
      return data.filter(live);
    },

    /**
     * The live members of a room of at most `max` memberships (expired ones included),
     * read strongly consistent in one Query of up to `max + 1` items; undefined for a
     * larger room. Consistent: a member whose join committed before a message was
     * stored is in the read that follows the store.
     */
    async smallRoomMembers(room: string, max: number): Promise<Membership[] | undefined> {
      const { data } = await membership.query.byRoom({ room }).go({ limit: max + 1, consistent: true });
      return data.length > max ? undefined : data.filter(live);
    },

    /**
     * Live members after the connection id `after` (of the room, or of one slice of it), in
     * key order, reading at most `limit` items. `lastRead` is the last key read when the room
     * or slice goes on beyond this read (else undefined): where the next read starts, even
     * when every item read had expired. With `tidy`, expired ones read are deleted.
     */
    async membersFrom(
      room: string,
      after: string | undefined,
      limit: number,
      { slice, tidy = false }: { slice?: SliceRange; tidy?: boolean } = {},
    ): Promise<{ members: Membership[]; lastRead: string | undefined }> {
      const query = membership.query.byRoom({ room });
      const { data, cursor } = slice
        ? // BETWEEN includes `after` itself: read one more item and drop it.
          await query
            .between({ connectionId: after ?? slice.from }, { connectionId: slice.to })
            .go({ limit: after ? limit + 1 : limit })
        : await (after ? query.gt({ connectionId: after }) : query).go({ limit });
      const read = data.filter((m) => m.connectionId !== after);
      if (tidy) await removeExpired(read.filter((m) => !live(m)));
      return { members: read.filter(live), lastRead: cursor ? data.at(-1)?.connectionId : undefined };
    },
  };
}
