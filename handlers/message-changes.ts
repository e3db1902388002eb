import type { Message } from "../model/store";
import { deliverFromSender } from "./delivery/settle";
import type { Deps } from "./deps";
import { connectionOrError, memberOrRefusal } from "./membership";
import { principalsOf } from "./principals";
import { frames } from "./frames";
import { FrameError } from "./protocol";
import type { FunctionPermissions } from "./permissions";
import { numberedOrBusy } from "./room-busy";

/** What `editmessage` and `deletemessage` do to a message. */
export type Change = { kind: "edit"; text: string } | { kind: "delete" };

/** The table actions of a change: the reads below, the transaction, and delivery as `sendmessage` delivers. */
export const changePermissions: FunctionPermissions = {
  table: ["GetItem", "BatchGetItem", "UpdateItem", "PutItem", "Query", "DeleteItem", "BatchWriteItem"],
  post: true,
  queue: true,
};

/**
 * Edits or deletes a message of `room` by its id: stored as the room's next event (an
 * `edit` or `delete` item, the message item updated in the same transaction), delivered
 * to the room's other members as a message is (fast path, safety net), and returned as
 * the reply. The author may do both; an owner or moderator of the room may delete.
 * @throws FrameError NOT_A_MEMBER/FORBIDDEN (not in the room), NOT_FOUND (no such live
 * message in the room), FORBIDDEN (not allowed), BUSY
 */
export async function changeMessage(
  deps: Deps,
  connectionId: string,
  room: string,
  id: string,
  change: Change,
) {
  const [reads, target] = await Promise.all([
    deps.store.sendReads(room, connectionId),
    deps.store.findMessage(room, id),
  ]);
  const member = await memberOrRefusal(deps, room, reads.membership);
  const caller = connectionOrError(connectionId, reads.connection);
  const lastSeqRead = reads.headSeq;
  if (!target) throw notFound(room, id);
  const principals = principalsOf(caller);
  if (!principals.includes(authorOf(target))) {
    const held = change.kind === "delete" ? await deps.store.roleOf(room, principals) : undefined;
    if (held?.role !== "owner" && held?.role !== "moderator") {
      throw new FrameError(
        "FORBIDDEN",
        change.kind === "edit"
          ? "id: only its author may edit a message"
          : `id: only its author, or an owner or moderator of ${room}, may delete a message`,
      );
    }
  }
  const result = await numberedOrBusy(deps, () =>
    deps.store.change(
      { ...change, target, from: member.name, verified: member.verified, connectionId },
      { lastSeqRead },
    ),
  );
  if (result === "gone") throw notFound(room, id);
  await deliverFromSender(deps, result.event);
  return frames.roomEvent(result.event);
}

/** A message stored before its author was kept is its connection's. */
const authorOf = (message: Message) => message.author ?? `conn:${message.connectionId}`;

const notFound = (room: string, id: string) =>
  new FrameError("NOT_FOUND", `id: no message ${id} in ${room} (or it was deleted)`);
