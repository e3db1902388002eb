// Import these from here, never through a re-export: Pulumi serializes a Lambda's closure
// module by module, and a re-exported binding (a getter on the re-exporting module) reached
// the packaged functions as undefined (tests/lambda/lambda-artifacts.test.ts).
import type { Message } from "../model/store";

/**
 * Next to a name: `guest: true` when it is not a verified token identity's (auth off, or
 * stored before this was kept). Absent for a verified name, so older clients see no change.
 */
export const guestMark = (verified: boolean | undefined) => (verified ? {} : { guest: true as const });

/** A message as its frame shows it: its current text (and `editedAt`), or a tombstone. */
type MessageState = Pick<Message, "room" | "seq" | "id" | "from" | "verified" | "text" | "sentAt"> &
  Partial<Pick<Message, "editedAt" | "deleted" | "deletedAt">>;

// Module-level functions, not `frames.x` inside `frames`: a packaged Lambda sees the exported
// object only through `exports`, where Pulumi's serialization leaves it incomplete.
const messageFrame = (m: MessageState) => ({
  type: "message" as const,
  room: m.room,
  seq: m.seq,
  id: m.id,
  from: m.from,
  ...guestMark(m.verified),
  ...(m.deleted ? { deleted: true as const, deletedAt: m.deletedAt } : { text: m.text }),
  ...(!m.deleted && m.editedAt ? { editedAt: m.editedAt } : {}),
  sentAt: m.sentAt,
});

const editedFrame = (e: Message) => ({
  type: "edited" as const,
  room: e.room,
  id: e.target,
  text: e.text,
  editedAt: e.sentAt,
  seq: e.seq,
});

const deletedFrame = (e: Message) => ({ type: "deleted" as const, room: e.room, id: e.target, seq: e.seq });

/** Server -> client frames. */
export const frames = {
  message: messageFrame,
  edited: editedFrame,
  deleted: deletedFrame,
  /** Any stored room event as members see it: a message, an edit or a delete. */
  roomEvent: (e: Message) =>
    e.kind === "edit" ? editedFrame(e) : e.kind === "delete" ? deletedFrame(e) : messageFrame(e),
  presence: (
    room: string,
    event: "join" | "leave",
    name: string,
    verified: boolean | undefined,
    kicked?: boolean,
  ) => ({
    type: "presence" as const,
    room,
    event,
    name,
    ...guestMark(verified),
    // A leave an owner or moderator made (kick or ban).
    ...(kicked ? { kicked: true as const } : {}),
  }),
};
