import { randomBytes } from "node:crypto";
import { ConnectionCapError, JoinGuardError, type ConnectionCap, type NewConnection } from "../model/store";
import { admissionOf, firstJoinGuards } from "./admission";
import { connectionCaps } from "./connection-caps";
import { headerOf, originAllowed } from "./origins";
import type { Deps } from "./deps";
import { FrameError } from "./protocol";
import type { Route } from "./route";

export const defaultRoom = "lobby";

/** Identity an authorizer put in the request context ($connect with a token). */
export function authorizedIdentity(context: { authorizer?: Record<string, unknown> }) {
  const { sub, name } = context.authorizer ?? {};
  return typeof sub === "string" && typeof name === "string" ? { userId: sub, name } : undefined;
}

/**
 * `$connect`: records the connection and joins its default room — one transaction
 * of two items, the same work however large the room (the stream worker counts and
 * announces it afterwards). `?name=` (else a guest name, or the token's name when
 * auth is on), `?room=` (else `lobby`) and `?session=` (an id the `session` action
 * issued, kept across reconnects, which scopes its `clientId`s; one the server did not
 * issue is ignored); invalid ones fail the handshake with 400, a page origin not in
 * `allowedOrigins` with 403, a `?room=` that is private and not the client's, or that
 * bans it, with 403 (the room is joined as `joinroom` joins it).
 */
export const connectRoute: Route = {
  key: "$connect",
  name: "connect",
  routeResponse: false,
  permissions: { table: ["PutItem", "GetItem", "Query", "ConditionCheckItem"], post: false },
  async handle(event, deps) {
    const origin = headerOf(event.headers, "origin");
    if (!originAllowed(origin, deps.config.allowedOrigins)) {
      deps.log.info("origin refused", { connectionId: event.requestContext.connectionId, origin });
      return { statusCode: 403 };
    }
    const query = deps.protocol.parseConnect(event.queryStringParameters ?? {});
    const identity = authorizedIdentity(event.requestContext);
    // Only a session the server issued scopes clientIds; any other value is ignored, as if absent.
    const session =
      query.session && (await deps.sessions.isIssued(query.session)) ? query.session : undefined;
    if (query.session && !session)
      deps.log.info("unissued session ignored", { connectionId: event.requestContext.connectionId });
    const caps = connectionCaps(deps.config, event.requestContext.identity?.sourceIp, identity?.userId);
    try {
      await connectAdmitted(
        deps,
        {
          connectionId: event.requestContext.connectionId,
          name: identity?.name ?? query.name ?? `guest-${randomBytes(3).toString("hex")}`,
          userId: identity?.userId,
          sessionId: session,
          defaultRoom: query.room ?? defaultRoom,
        },
        caps,
      );
    } catch (error) {
      if (error instanceof FrameError) {
        deps.log.info("default room refused", {
          connectionId: event.requestContext.connectionId,
          code: error.code,
        });
        return { statusCode: 403 };
      }
      if (!(error instanceof ConnectionCapError)) throw error;
      deps.log.info("connection cap reached", {
        connectionId: event.requestContext.connectionId,
        owner: error.owner,
        cap: error.cap,
      });
      deps.metrics.count("ConnectionCapRefusals");
      return { statusCode: 429 };
    }
    return { statusCode: 200 };
  },
};

/** Attempts at a handshake whose room's access changed between its read and the join. */
const admissionAttempts = 3;

/**
 * Records the connection, joining its default room as `joinroom` would: first as if the
 * room had no owner; a room with an owner is read and admitted (no invitation at `$connect`).
 * @throws FrameError when the room refuses it; ConnectionCapError
 */
async function connectAdmitted(deps: Deps, input: NewConnection, caps: readonly ConnectionCap[]) {
  const room = input.defaultRoom;
  let guards = await firstJoinGuards(deps, input, room, undefined);
  for (let attempt = 1; ; attempt++) {
    try {
      return await deps.store.connect(input, caps, guards);
    } catch (error) {
      if (!(error instanceof JoinGuardError) || attempt >= admissionAttempts) throw error;
    }
    guards = await admissionOf(deps, input, room, undefined);
  }
}
