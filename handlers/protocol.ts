import { z } from "zod";
import type { ChatConfig } from "./config";
import { checkName } from "./names";

/** Client actions of wire protocol v1 (the README's protocol section), in the order it lists them. */
export const actions = [
  "sendmessage",
  "joinroom",
  "leaveroom",
  "listrooms",
  "history",
  "members",
  "resume",
  "session",
  "createroom",
  "invite",
  "revokeinvite",
  "setrole",
  "kick",
  "ban",
  "editmessage",
  "deletemessage",
  "dm",
] as const;
export type Action = (typeof actions)[number];

export type ErrorCode =
  | "BAD_JSON"
  | "UNKNOWN_ACTION"
  | "INVALID"
  | "NOT_A_MEMBER"
  | "TOO_LARGE"
  | "RATE_LIMITED"
  | "BUSY"
  | "FORBIDDEN"
  | "ROOM_TAKEN"
  | "INVITE_INVALID"
  | "BANNED"
  | "NOT_FOUND"
  | "INTERNAL";

/** What an error frame adds for some codes: RATE_LIMITED says how long to wait. */
export type ErrorDetails = { retryAfterMs?: number };

export type ErrorFrame = { type: "error"; code: ErrorCode; message: string; action?: string } & ErrorDetails;

export const errorFrame = (
  code: ErrorCode,
  message: string,
  action?: string,
  details: ErrorDetails = {},
): ErrorFrame => ({ type: "error", code, message, ...(action === undefined ? {} : { action }), ...details });

/** A frame was rejected: the reply says why, nothing was written. */
export class FrameError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
  }
}

const roomPattern = /^[A-Za-z0-9_-]{1,64}$/;
const clientIdPattern = /^[A-Za-z0-9_.:-]{1,64}$/;
const sessionPattern = /^[A-Za-z0-9_-]{16,64}$/;
/** A cursor the server issued (handlers/cursors.ts checks it is one): base64url. */
const issuedCursorPattern = /^[A-Za-z0-9_-]{1,1024}$/;
/** An invitation code the server issued (handlers/invitations.ts): base64url. */
const inviteCodePattern = /^[A-Za-z0-9_-]{16,64}$/;
/** A message id the server issued: a ULID (Crockford base32). */
const messageIdPattern = /^[0-9A-HJKMNP-TV-Z]{26}$/;
/** The longest ban with minutes: a year (longer is a permanent ban, without minutes). */
export const maxBanMinutes = 365 * 24 * 60;
// C0/C1 controls, except tab and newlines in message text.
const textForbidden = /(?![\t\n\r])\p{Cc}/u;
const characters = (s: string) => [...s].length;

type Limits = Pick<
  ChatConfig,
  "maxMessageLength" | "maxNameLength" | "historyPageMax" | "maxRoomsPerConnection"
>;

/**
 * The frame schemas for the configured limits. Built at cold start, not at
 * import, so Pulumi's function serialization captures no schema objects.
 */
function buildSchemas(config: Limits) {
  const room = z
    .string({ error: "room: must be a string" })
    .regex(roomPattern, { error: "room: must be 1 to 64 characters of A-Z, a-z, 0-9, _ or -" });
  const name = z.string({ error: "name: must be a string" }).transform((s, ctx) => {
    const checked = checkName(s, config.maxNameLength);
    if (checked.ok) return checked.name;
    ctx.addIssue({ code: "custom", message: `name: ${checked.rule}`, input: s });
    return z.NEVER;
  });
  const text = z
    .string({ error: "message: must be a string" })
    .refine((s) => characters(s) >= 1, { error: "message: must not be empty" })
    .refine((s) => !textForbidden.test(s), {
      error: "message: must not contain control characters (tab and newline are fine)",
    });
  const clientId = z
    .string({ error: "clientId: must be a string" })
    .regex(clientIdPattern, { error: "clientId: must be 1 to 64 characters of A-Z, a-z, 0-9, _ . : or -" });
  /** A room's seq as a client sends it back: `after` may be 0 (nothing yet), `before` at least 1. */
  const seq = (field: string, min: number) =>
    z
      .number({ error: `${field}: must be a number (a seq)` })
      .int({ error: `${field}: must be a whole number (a seq)` })
      .min(min, { error: `${field}: must be at least ${min}` })
      .max(Number.MAX_SAFE_INTEGER, { error: `${field}: must be at most ${Number.MAX_SAFE_INTEGER}` });
  const session = z
    .string({ error: "session: must be a string" })
    .regex(sessionPattern, { error: "session: must be 16 to 64 characters of A-Z, a-z, 0-9, _ or -" });
  const issuedCursor = (action: "members" | "listrooms") =>
    z
      .string({ error: "after: must be a string" })
      .regex(issuedCursorPattern, { error: `after: must be a cursor returned as \`next\` by ${action}` });
  const inviteCode = (field: string) =>
    z
      .string({ error: `${field}: must be a string` })
      .regex(inviteCodePattern, { error: `${field}: must be an invitation code the server issued` });
  /** A token subject (auth on; `dm`: always) or a member's display name in the room (auth off). */
  const user = z
    .string({ error: "user: must be a string" })
    .transform((s) => s.normalize("NFKC").trim())
    .refine((s) => characters(s) >= 1 && characters(s) <= 256, { error: "user: must be 1 to 256 characters" })
    .refine((s) => !textForbidden.test(s), { error: "user: must not contain control characters" });
  const messageId = z
    .string({ error: "id: must be a string" })
    .regex(messageIdPattern, { error: "id: must be a message id (the `id` of a message frame)" });
  const limit = z
    .number({ error: "limit: must be a number" })
    .int({ error: "limit: must be a whole number" })
    .min(1, { error: `limit: must be 1 to ${config.historyPageMax}` })
    .max(config.historyPageMax, { error: `limit: must be 1 to ${config.historyPageMax}` });

  const frames = {
    sendmessage: z.object({ message: text, room: room.optional(), clientId: clientId.optional() }),
    joinroom: z.object({ room, after: seq("after", 0).optional(), invite: inviteCode("invite").optional() }),
    leaveroom: z.object({ room }),
    listrooms: z.object({ after: issuedCursor("listrooms").optional() }),
    history: z
      .object({
        room,
        before: seq("before", 1).optional(),
        after: seq("after", 0).optional(),
        limit: limit.optional(),
      })
      .refine((f) => f.before === undefined || f.after === undefined, {
        error: "before, after: give one of them, not both",
      }),
    members: z.object({ room, after: issuedCursor("members").optional() }),
    resume: z.object({
      rooms: z
        .array(z.object({ room, after: seq("after", 0) }), {
          error: "rooms: must be a list of {room, after}",
        })
        .min(1, { error: "rooms: must list at least one room" })
        .max(config.maxRoomsPerConnection, {
          error: `rooms: at most ${config.maxRoomsPerConnection} (the rooms a connection may be in)`,
        })
        .refine((rooms) => new Set(rooms.map((r) => r.room)).size === rooms.length, {
          error: "rooms: each room at most once",
        }),
    }),
    session: z.object({}),
    createroom: z.object({
      room,
      private: z.boolean({ error: "private: must be true or false" }).optional(),
    }),
    invite: z.object({ room, user: user.optional() }),
    revokeinvite: z.object({ room, code: inviteCode("code") }),
    setrole: z.object({
      room,
      user,
      role: z.enum(["moderator", "member"], { error: "role: must be moderator or member" }),
    }),
    kick: z.object({ room, user }),
    ban: z.object({
      room,
      user,
      minutes: z
        .number({ error: "minutes: must be a number" })
        .int({ error: "minutes: must be a whole number" })
        .min(1, { error: `minutes: must be 1 to ${maxBanMinutes} (leave it out for a permanent ban)` })
        .max(maxBanMinutes, {
          error: `minutes: must be 1 to ${maxBanMinutes} (leave it out for a permanent ban)`,
        })
        .optional(),
    }),
    editmessage: z.object({ room, id: messageId, message: text }),
    deletemessage: z.object({ room, id: messageId }),
    dm: z.object({ user }),
  } satisfies Record<Action, z.ZodType>;
  const connect = z.object({ name: name.optional(), room: room.optional(), session: session.optional() });
  return { frames, connect };
}

/** The validated fields of a client action. */
export type ActionFields<A extends Action> = z.infer<ReturnType<typeof buildSchemas>["frames"][A]>;

export function createProtocol(config: Limits) {
  const { frames, connect } = buildSchemas(config);

  /**
   * Max bytes of a frame body: the longest legal message plus room for the JSON around it.
   * JSON may escape any character as `\uXXXX` (many encoders do by default), and one
   * outside the BMP as two: up to 12 bytes a character.
   */
  const maxFrameBytes = config.maxMessageLength * 12 + 1024;

  function check<T>(schema: z.ZodType<T>, input: unknown, missing: (field: string) => string): T {
    // Without reportInput, zod leaves `input` off every issue and a wrong type would read as a missing field.
    const result = schema.safeParse(input, { reportInput: true });
    if (result.success) return result.data;
    const issue = result.error.issues[0];
    const field = issue.path.join(".");
    const message =
      issue.code === "invalid_type" && issue.input === undefined ? missing(field) : issue.message;
    throw new FrameError("INVALID", message);
  }

  return {
    actions,
    maxFrameBytes,
    /**
     * Parses a client frame body into an action and its fields.
     * @throws FrameError BAD_JSON, UNKNOWN_ACTION, TOO_LARGE or INVALID
     */
    parseFrame(body: string | undefined): { action: Action; fields: Record<string, unknown> } {
      if (Buffer.byteLength(body ?? "", "utf8") > maxFrameBytes) {
        throw new FrameError("TOO_LARGE", `frame: must be at most ${maxFrameBytes} bytes`);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(body ?? "");
      } catch {
        throw new FrameError(
          "BAD_JSON",
          `frame: must be a JSON object like {"action":"sendmessage","message":"hi"}`,
        );
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw new FrameError("BAD_JSON", "frame: must be a JSON object with an `action` field");
      }
      const action = (parsed as { action?: unknown }).action;
      if (typeof action !== "string" || !(actions as readonly string[]).includes(action)) {
        const what = action === undefined ? "is missing" : `${JSON.stringify(action)} is not an action`;
        throw new FrameError("UNKNOWN_ACTION", `action: ${what}; valid actions: ${actions.join(", ")}`);
      }
      return { action: action as Action, fields: parsed as Record<string, unknown> };
    },

    /** Validates the fields of an action. @throws FrameError INVALID or TOO_LARGE */
    parseFields<A extends Action>(action: A, fields: Record<string, unknown>): ActionFields<A> {
      const message = fields.message;
      if (
        (action === "sendmessage" || action === "editmessage") &&
        typeof message === "string" &&
        characters(message) > config.maxMessageLength
      ) {
        throw new FrameError("TOO_LARGE", `message: must be at most ${config.maxMessageLength} characters`);
      }
      return check<unknown>(frames[action], fields, (field) => `${field}: is required`) as ActionFields<A>;
    },

    /** Validates `$connect`'s query string. @throws FrameError INVALID */
    parseConnect(query: Record<string, string | undefined>) {
      return check(
        connect,
        { name: query.name, room: query.room, session: query.session },
        (field) => `${field}: is required`,
      );
    },
  };
}

export type Protocol = ReturnType<typeof createProtocol>;
