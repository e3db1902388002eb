import { createHash } from "node:crypto";
import type { RoomAccess } from "../model/store";

/** A DM room's owner: no principal (`user:`, `session:`, `conn:`), so nobody holds it. */
export const directRoomOwner = "none";

/**
 * The two users of a DM in a fixed order, whoever opens it: what its name is derived
 * from, and the order its access item lists them in.
 */
export const directPair = (a: string, b: string) => [a, b].sort();

/**
 * A DM room's name, the same from either side: `dm-` and the SHA-256 of the sorted pair
 * (as a JSON array, so no subject can run into the other), base64url — 46 characters,
 * within the room-name rule whatever the subjects' lengths. Another pair shares it only
 * if SHA-256 collides.
 */
export const directRoomName = (a: string, b: string) =>
  `dm-${createHash("sha256")
    .update(JSON.stringify(directPair(a, b)))
    .digest("base64url")}`;

/**
 * Names of a DM's shape are kept for `dm`: `createroom` refuses them, and `joinroom` or
 * `$connect` never joins one into being, so nobody can take a pair's room before `dm` opens it.
 */
export const isDirectRoomName = (room: string) => /^dm-[A-Za-z0-9_-]{43}$/.test(room);

/** What marks a DM in `listrooms` for one of its users: the other one. */
export const directMark = (access: RoomAccess | undefined, self: string | undefined) =>
  access?.dm ? { dm: { with: access.dm.find((subject) => subject !== self) ?? self } } : {};
