import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import { FrameError } from "./protocol";

/** What a cursor of each kind holds; the client sees none of it. */
type Positions = {
  /** The last member shown, in the room the cursor was issued for. */
  members: { room: string; last: string };
  /** The last room shown of each directory shard (absent: the shard was not started). */
  listrooms: { last: (string | null)[] };
};
export type CursorKind = keyof Positions;

const ivBytes = 12;
const tagBytes = 16;

/**
 * Cursors the server issues (`next` of `members` and `listrooms`): the position is
 * encrypted and authenticated with AES-256-GCM under a key derived (HMAC-SHA256) from
 * the stack's cursor secret, so a cursor is opaque — no connection id, whole or in
 * part — and any value the server did not issue, for this kind and room, is INVALID.
 *
 * @example
 * const cursors = createCursors(secret);
 * const next = cursors.seal("members", { room: "lobby", last: "Lx3kVcOFvHcCIhw=" });
 * cursors.open("members", next, "after"); // { room: "lobby", last: "Lx3kVcOFvHcCIhw=" }
 */
export function createCursors(secret: string) {
  const key = createHmac("sha256", secret).update("roomcast cursor key v1").digest();
  return {
    seal<K extends CursorKind>(kind: K, position: Positions[K]): string {
      const iv = randomBytes(ivBytes);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      cipher.setAAD(Buffer.from(kind));
      const body = Buffer.concat([cipher.update(JSON.stringify(position), "utf8"), cipher.final()]);
      return Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64url");
    },

    /** The position a cursor holds. @throws FrameError INVALID for anything the server did not issue as `kind` */
    open<K extends CursorKind>(kind: K, cursor: string, field: string): Positions[K] {
      const invalid = new FrameError("INVALID", `${field}: must be a cursor returned as \`next\` by ${kind}`);
      const bytes = Buffer.from(cursor, "base64url");
      if (bytes.length <= ivBytes + tagBytes || bytes.toString("base64url") !== cursor) throw invalid;
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, ivBytes));
        decipher.setAAD(Buffer.from(kind));
        decipher.setAuthTag(bytes.subarray(bytes.length - tagBytes));
        const body = Buffer.concat([decipher.update(bytes.subarray(ivBytes, -tagBytes)), decipher.final()]);
        return JSON.parse(body.toString("utf8")) as Positions[K];
      } catch {
        throw invalid;
      }
    },
  };
}

export type Cursors = ReturnType<typeof createCursors>;

/** Locally (and in tests) a secret per process: cursors do not outlive a run. */
export const randomCursorSecret = () => randomBytes(32).toString("base64url");
