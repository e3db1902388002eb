import { actionRoute } from "./action-route";
import { joinRoom, roomSnapshot } from "./joinroom";
import { requireConnection } from "./membership";
import { errorFrame, FrameError } from "./protocol";
import { frameBudget, listIn, seqPlaceholder } from "./reply-size";

type Failed = { room: string; code: string; message: string };

/**
 * `resume`: after a reconnect, rejoins each listed room (idempotent) and returns what
 * came after the client's last seq there, oldest first. The rooms share one reply's
 * 131,072 bytes: a room whose backlog does not fit gets `next` (an `after` value) and
 * the client goes on with `history` … `after`. Rooms it may not join are in `failed`.
 */
export const resumeRoute = actionRoute(
  "resume",
  { table: ["GetItem", "PutItem", "UpdateItem", "Query", "ConditionCheckItem"], post: false },
  async ({ rooms }, event, deps) => {
    const connection = await requireConnection(deps, event.requestContext.connectionId);
    const failed: Failed[] = [];
    const joined: typeof rooms = [];
    // One after another: each join updates the connection's own record.
    for (const entry of rooms) {
      try {
        await joinRoom(deps, connection, entry.room);
        joined.push(entry);
      } catch (error) {
        if (!(error instanceof FrameError)) throw error;
        const { code, message } = errorFrame(error.code, error.message);
        failed.push({ room: entry.room, code, message });
      }
    }
    const budget = frameBudget({ type: "resumed", rooms: [], failed });
    // Every room's entry is reserved before any history fills the rest.
    const entries = listIn(budget);
    for (const { room } of joined) {
      entries.add({ room, members: seqPlaceholder, seq: seqPlaceholder, history: [], next: seqPlaceholder });
    }
    const resumed = [];
    for (const { room, after } of joined) {
      const { members, seq, history, next } = await roomSnapshot(deps, room, after, budget);
      resumed.push({ room, members, seq, history, next });
    }
    return { type: "resumed", rooms: resumed, failed };
  },
);
