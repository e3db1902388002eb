import type { Connection } from "../entities/connection";
import type { RoomAccess } from "../entities/room-access";
import { roles, type Role } from "../entities/room-role";
import type { StoreContext } from "./context";
import { isConditionFailure, TransactionCanceledError } from "./errors";
import { joinWrites, type JoinGuard } from "./memberships";

export type HeldRole = { role: Role; principal: string };
export type CreateRoomResult = "created" | "taken" | "too-many-rooms" | "no-connection";
/** A new room's access item: its owner's principal (`none` for a DM), visibility and, for a DM, its two users. */
export type NewRoomAccess = { owner: string; isPrivate: boolean; dm?: string[] };

/** A role's rank: lower is higher (owner 0, moderator 1, member 2, none 3). */
export const rank = (role: Role | undefined) => (role === undefined ? roles.length : roles.indexOf(role));

/**
 * Rooms with owners: their access item, roles, invitations and bans, all in the room's
 * access partition (`room#<R>#access`), each read by GetItem; and a verified user's
 * connections (one Query). None of it is on the path of a member's own reads: the
 * membership item stays the proof of access.
 */
export function accessStore({
  entities,
  settings,
  now,
  nowSeconds,
  transact,
  untilAllProcessed,
  live,
}: StoreContext) {
  const { roomAccess, roomRole, invitation, ban, membership, roomHead, userConnection } = entities;

  return {
    /** The room's owner and visibility; undefined for a room without an owner (or none at all). */
    async accessOf(room: string): Promise<RoomAccess | undefined> {
      const { data } = await roomAccess.get({ room }).go({ consistent: true });
      return data ?? undefined;
    },

    /**
     * The access items of the private rooms among `rooms`, by room (up to 100: one
     * BatchGetItem, more for what it leaves unprocessed).
     */
    async privateAmong(rooms: readonly string[]): Promise<Map<string, RoomAccess>> {
      const found = new Map<string, RoomAccess>();
      await untilAllProcessed(
        rooms.map((room) => ({ room })),
        async (keys) => {
          const { data, unprocessed } = await roomAccess.get([...keys]).go();
          for (const access of data) if (access.private) found.set(access.room, access);
          return unprocessed as typeof keys;
        },
      );
      return found;
    },

    /** The highest role any of `principals` holds in the room, and whose (one GetItem each, side by side). */
    async roleOf(room: string, principals: readonly string[]): Promise<HeldRole | undefined> {
      const found = await Promise.all(
        principals.map((principal) => roomRole.get({ room, principal }).go({ consistent: true })),
      );
      return found
        .flatMap(({ data }) => (data ? [{ role: data.role, principal: data.principal }] : []))
        .reduce<HeldRole | undefined>(
          (best, held) => (rank(held.role) < rank(best?.role) ? held : best),
          undefined,
        );
    },

    /** Whether a live ban holds any of `principals` (one GetItem each, side by side). */
    async isBanned(room: string, principals: readonly string[]): Promise<boolean> {
      const found = await Promise.all(
        principals.map((principal) => ban.get({ room, principal }).go({ consistent: true })),
      );
      return found.some(({ data }) => live(data));
    },

    /** Whether an invitation with this code hash is live. */
    async invitationValid(room: string, codeHash: string): Promise<boolean> {
      const { data } = await invitation.get({ room, codeHash }).go({ consistent: true });
      return live(data);
    },

    /**
     * Whether the room name is in use: an access item, a membership or a stored message
     * (a public room exists once anyone joined it). A Query of one item and two GetItems.
     */
    async roomInUse(room: string): Promise<boolean> {
      const [access, members, head] = await Promise.all([
        roomAccess.get({ room }).go({ consistent: true }),
        // Any membership, even one expired: someone joined the room.
        membership.query.byRoom({ room }).go({ consistent: true, limit: 1 }),
        roomHead.get({ room }).go({ consistent: true }),
      ]);
      return !!access.data || members.data.length > 0 || !!head.data;
    },

    /**
     * Creates a room and joins `conn` to it, in one transaction: the access item
     * (condition: none yet), its roles (`createroom`: the owner's; `dm`: both users'),
     * the membership and the connection's room list.
     */
    async createRoom(
      conn: Connection,
      room: string,
      { owner, isPrivate, dm }: NewRoomAccess,
      heldRoles: readonly HeldRole[],
    ): Promise<CreateRoomResult> {
      const result = await transact((e) => [
        ...joinWrites(e, conn, room, {
          nowSeconds: nowSeconds(),
          maxRoomsPerConnection: settings.maxRoomsPerConnection,
        }),
        e.roomAccess.create({ room, owner, private: isPrivate, createdAt: now(), dm }).commit(),
        ...heldRoles.map(({ principal, role }) => e.roomRole.put({ room, principal, role }).commit()),
      ]).go();
      if (!result.canceled) return "created";
      const [membershipWrite, connectionWrite, accessWrite] = result.data as { rejected: boolean }[];
      if (accessWrite.rejected || membershipWrite.rejected) return "taken";
      if (connectionWrite.rejected) return "too-many-rooms";
      throw new TransactionCanceledError("createroom", result.data);
    },

    /** Whether a connection other than `connectionId` holds a membership of the room (a consistent Query of 2). */
    async othersIn(room: string, connectionId: string): Promise<boolean> {
      const { data } = await membership.query.byRoom({ room }).go({ consistent: true, limit: 2 });
      return data.some((m) => m.connectionId !== connectionId);
    },

    /**
     * Takes back a `createroom` that a first `joinroom` raced (store/README): the access item
     * (condition: still this owner's) and the owner's role go; the caller then leaves as `leave` does.
     */
    async undoCreateRoom(room: string, owner: string) {
      await transact((e) => [
        e.roomAccess
          .delete({ room })
          .where((a, op) => op.eq(a.owner, owner))
          .commit(),
        e.roomRole.delete({ room, principal: owner }).commit(),
      ]).go();
    },

    /** Join guards (see memberships.join). */
    guards: {
      /** The room still has no owner (a `createroom` did not take the name meanwhile). */
      ownerless:
        (room: string): JoinGuard =>
        (e) =>
          e.roomAccess
            .check({ room })
            .where((a, op) => op.notExists(a.owner))
            .commit(),
      /** The room's access item is still the one read. */
      unchanged:
        (access: RoomAccess): JoinGuard =>
        (e) =>
          e.roomAccess
            .check({ room: access.room })
            .where((a, op) => `${op.eq(a.owner, access.owner)} AND ${op.eq(a.private, access.private)}`)
            .commit(),
      /** No live ban of `principal` (one was not written meanwhile). */
      notBanned:
        (room: string, principal: string): JoinGuard =>
        (e) =>
          e.ban
            .check({ room, principal })
            .where((a, op) => `${op.notExists(a.principal)} OR ${op.lte(a.expiresAt, nowSeconds())}`)
            .commit(),
      /** `principal` still holds a role (a kick did not take it meanwhile). */
      hasRole:
        (room: string, principal: string): JoinGuard =>
        (e) =>
          e.roomRole
            .check({ room, principal })
            .where((a, op) => op.exists(a.role))
            .commit(),
      /** The invitation is still live, and `principal` becomes a member with it. */
      invited: (room: string, codeHash: string, principal: string): JoinGuard[] => [
        (e) =>
          e.invitation
            .check({ room, codeHash })
            .where((a, op) => op.gt(a.expiresAt, nowSeconds()))
            .commit(),
        (e) =>
          e.roomRole
            .put({ room, principal, role: "member" })
            // Never lowers a moderator's or the owner's role.
            .where((a, op) => op.notExists(a.role))
            .commit(),
      ],
    },

    async createInvitation(room: string, codeHash: string, by: string, expiresAt: number) {
      await invitation.create({ room, codeHash, by, expiresAt }).go();
    },

    /** True when a live invitation was revoked. */
    async revokeInvitation(room: string, codeHash: string): Promise<boolean> {
      try {
        await invitation
          .delete({ room, codeHash })
          .where((a, op) => op.gt(a.expiresAt, nowSeconds()))
          .go();
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },

    async setRole(room: string, principal: string, role: Role) {
      await roomRole.put({ room, principal, role }).go();
    },

    async removeRole(room: string, principal: string) {
      await roomRole.delete({ room, principal }).go();
    },

    /** Bans each principal until `expiresAt` (epoch seconds; undefined: for good). */
    async ban(room: string, principals: readonly string[], expiresAt: number | undefined) {
      await Promise.all(
        principals.map((principal) =>
          ban.put({ room, principal, ...(expiresAt !== undefined && { expiresAt }) }).go(),
        ),
      );
    },

    /**
     * Marks a membership kicked (the leave the stream announces says so); false when it is
     * not there. The caller then removes it as a leave does.
     */
    async markKicked(room: string, connectionId: string): Promise<boolean> {
      try {
        await membership.patch({ room, connectionId }).set({ kicked: true }).go({ response: "none" });
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },

    /** A verified user's live connections: one Query of the user's partition. */
    async connectionsOf(userId: string): Promise<string[]> {
      const { data } = await userConnection.query.byUser({ userId }).go({ consistent: true, pages: "all" });
      return data.filter((c) => c.expiresAt > nowSeconds()).map((c) => c.connectionId);
    },
  };
}
