import { actionRoute } from "./action-route";
import { connectionOrError, memberOrRefusal, requireConnection } from "./membership";
import { deliverFromSender } from "./delivery/settle";
import { mainPrincipal } from "./principals";
import type { ActionFields } from "./protocol";
import { numberedOrBusy } from "./room-busy";
import type { Connection } from "../model/store";
import type { Deps } from "./deps";
import type { WebSocketEvent } from "./route";

/**
 * `sendmessage`: stores the message under the room's next `seq`, delivers it to the
 * room's other members from this same request (the fast path: up to `inlineFanoutMax`
 * recipients, all at once, one attempt each within `fastPathTimeoutMs`; larger rooms
 * are queued as slice jobs), then acknowledges it — ack means stored. Delivery is at
 * least once: the table's stream is the safety net for whatever the fast path did not
 * settle. A repeated `clientId` from the same client session is acknowledged again with
 * the first message's id and seq, stored and delivered once.
 */
export const sendMessageRoute = actionRoute(
  "sendmessage",
  {
    table: ["GetItem", "BatchGetItem", "UpdateItem", "PutItem", "Query", "DeleteItem", "BatchWriteItem"],
    post: true,
    queue: true,
  },
  storeAndAck,
  // A resend of a stored clientId only re-acks: it must not be refused for the rate limit
  // it already paid. Looked up only when refused, so no send pays an extra read.
  async (fields, event, deps) => {
    if (fields.clientId === undefined) return undefined;
    const { connectionId } = event.requestContext;
    const connection = await requireConnection(deps, connectionId);
    const room = fields.room ?? connection.defaultRoom;
    const repeat = await deps.store.isRepeat(room, sessionOf(connection, connectionId), fields.clientId);
    return repeat ? storeAndAck(fields, event, deps) : undefined;
  },
);

async function storeAndAck(fields: ActionFields<"sendmessage">, event: WebSocketEvent, deps: Deps) {
  const { connectionId, requestTimeEpoch } = event.requestContext;
  // The connection record holds the default room, the session that scopes a clientId
  // and the principal that may later edit or delete the message. With the room named,
  // it, the membership and the room's head are one read; without, it is read first (for
  // the default room) and not again.
  const known = fields.room === undefined ? await requireConnection(deps, connectionId) : undefined;
  const room = fields.room ?? known!.defaultRoom;
  const reads = await deps.store.sendReads(room, connectionId, known);
  const member = await memberOrRefusal(deps, room, reads.membership);
  const connection = connectionOrError(connectionId, reads.connection);
  const lastSeqRead = reads.headSeq;
  const { message, duplicate } = await numberedOrBusy(deps, () =>
    deps.store.post(
      {
        room,
        from: member.name,
        verified: member.verified,
        connectionId,
        session: sessionOf(connection, connectionId),
        author: mainPrincipal(connection),
        text: fields.message,
        clientId: fields.clientId,
      },
      { lastSeqRead },
    ),
  );
  if (!duplicate) {
    deps.metrics.count("MessagesStored");
    await deliverFromSender(deps, message);
  }
  deps.metrics.milliseconds("AckLatency", Date.now() - requestTimeEpoch);
  return {
    type: "ack",
    room,
    id: message.id,
    seq: message.seq,
    ...(fields.clientId ? { clientId: fields.clientId } : {}),
    sentAt: message.sentAt,
  };
}

/**
 * Whose `clientId`s these are: the token's subject, else the session id the client
 * sent at connect (kept across reconnects), else just this connection. Never the
 * display name, which two users may share.
 */
function sessionOf(connection: Connection, connectionId: string): string {
  if (connection.userId) return `user:${connection.userId}`;
  if (connection.sessionId) return `session:${connection.sessionId}`;
  return `connection:${connectionId}`;
}
