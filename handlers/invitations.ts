import { createHash, randomBytes } from "node:crypto";

/** 144 random bits, 24 base64url characters: unguessable, and never stored as such. */
export const newInviteCode = () => randomBytes(18).toString("base64url");

/** What the table keeps of a code: its SHA-256, so a read of the table lets nobody in. */
export const inviteCodeHash = (code: string) => createHash("sha256").update(code).digest("base64url");
