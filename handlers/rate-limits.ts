import type { RateLimit, RateVerdict } from "../model/store";
import { createTokenBucket } from "../model/token-bucket";
import type { ChatConfig } from "./config";
import { authorizedIdentity } from "./connect";
import type { Deps } from "./deps";
import type { Action } from "./protocol";
import { FrameError } from "./protocol";
import type { WebSocketEvent } from "./route";

/** Frames that write (their own bucket) and frames that only read (a separate, larger one). */
export type RateClass = "write" | "read";
/** What the in-container buckets count: any action frame, or junk (`$default`), which gets a small bucket. */
export type FrameKind = "action" | "junk";

export const rateClassOf: Record<Action, RateClass> = {
  sendmessage: "write",
  joinroom: "write",
  leaveroom: "write",
  listrooms: "read",
  history: "read",
  members: "read",
  // Issues a session at most once per connection: a write.
  session: "write",
  // Rejoins every listed room: a write.
  resume: "write",
  // Room administration writes items (access, roles, invitations, bans).
  createroom: "write",
  invite: "write",
  revokeinvite: "write",
  setrole: "write",
  kick: "write",
  ban: "write",
  // Each stores a room event under the room's next seq, as a message does.
  editmessage: "write",
  deletemessage: "write",
  // Opens a room (or rejoins one) and joins the other user's connections.
  dm: "write",
};

/** Connections a container remembers (buckets, subjects, closes): the oldest are forgotten first. */
const rememberedConnections = 10_000;

function remember<V>(map: Map<string, V>, key: string, value: V): V {
  map.delete(key);
  map.set(key, value);
  if (map.size > rememberedConnections) map.delete(map.keys().next().value!);
  return value;
}

/**
 * Rate limits on every route, three layers deep:
 * 1. a bucket per connection in this container, for every frame, junk included: free,
 *    and what it refuses never reaches DynamoDB (a flood mostly stops here);
 * 2. the connection's bucket in DynamoDB, one for writes and one for reads, that every
 *    container shares;
 * 3. the same per user (token subject) or, without auth, per client session, so neither
 *    reconnecting nor opening more connections buys more.
 * A connection refused `rateLimitCloseAfter` times in a row, or more than that many times
 * within one window, is closed (Management API DELETE). The window matters: a flood that the
 * stage throttles to the pace of its refilling bucket gets a frame through now and then, so
 * its refusals never all come in a row.
 *
 * @param now the clock of the in-container buckets (ms); tests pass their own
 */
export function createRateLimiter(config: ChatConfig, now: () => number = () => performance.now()) {
  const window = config.rateLimitWindowSeconds;
  const rule = (limit: number): RateLimit | undefined =>
    limit > 0 ? { limit, windowSeconds: window } : undefined;
  const rules = {
    connection: { write: rule(config.rateLimitMessages), read: rule(config.rateLimitReads) },
    subject: { write: rule(config.userRateLimitMessages), read: rule(config.userRateLimitReads) },
  };
  // Actions: room for both classes at once (the shared buckets decide which is over), and no
  // bucket at all when either class is unlimited (0), or it would cap what no limit caps; junk: its own.
  const unlimitedClass = config.rateLimitMessages === 0 || config.rateLimitReads === 0;
  const perContainer = {
    action: unlimitedClass ? 0 : config.rateLimitMessages + config.rateLimitReads,
    junk: config.rateLimitJunk,
  };
  const local = new Map<string, { admit: Record<FrameKind, () => boolean>; refusals: number }>();
  // Each refusal takes a token; none left means more than `rateLimitCloseAfter` refusals in a window.
  const patience = new Map<string, () => boolean>();
  const patienceOf = (connectionId: string) =>
    patience.get(connectionId) ??
    remember(
      patience,
      connectionId,
      createTokenBucket(
        { rateLimit: config.rateLimitCloseAfter / window, burstLimit: config.rateLimitCloseAfter },
        now,
      ),
    );
  const subjects = new Map<string, string | undefined>();
  const closed = new Map<string, true>();

  async function refuse(
    deps: Deps,
    connectionId: string,
    refusals: number,
    message: string,
    retryAfterMs: number,
  ) {
    const outOfPatience = config.rateLimitCloseAfter > 0 && !patienceOf(connectionId)();
    if (
      config.rateLimitCloseAfter > 0 &&
      (refusals >= config.rateLimitCloseAfter || outOfPatience) &&
      !closed.has(connectionId)
    ) {
      remember(closed, connectionId, true);
      deps.log.warn("closing connection", {
        connectionId,
        reason: "rate limit",
        refusalsInARow: refusals,
        tooManyInAWindow: outOfPatience,
      });
      deps.metrics.count("RateLimitCloses");
      await deps
        .closeConnection(connectionId)
        .catch((error: unknown) => deps.log.error("closing connection failed", { connectionId, error }));
    }
    throw new FrameError("RATE_LIMITED", message, { retryAfterMs });
  }

  /** Whose bucket this connection also draws on: its user, else its client session, else none. */
  async function subjectOf(deps: Deps, event: WebSocketEvent): Promise<string | undefined> {
    const { connectionId } = event.requestContext;
    const user = authorizedIdentity(event.requestContext)?.userId;
    if (user) return `user#${user}`;
    if (subjects.has(connectionId)) return subjects.get(connectionId);
    const session = (await deps.store.getConnection(connectionId))?.sessionId;
    return remember(subjects, connectionId, session ? `session#${session}` : undefined);
  }

  return {
    /** Every frame, junk included, in this container only. @throws FrameError RATE_LIMITED */
    async admitFrame(deps: Deps, connectionId: string, kind: FrameKind): Promise<void> {
      const size = perContainer[kind];
      if (size === 0) return;
      const bucket = (size: number) => createTokenBucket({ rateLimit: size / window, burstLimit: size }, now);
      const state =
        local.get(connectionId) ??
        remember(local, connectionId, {
          admit: { action: bucket(perContainer.action), junk: bucket(perContainer.junk) },
          refusals: 0,
        });
      if (state.admit[kind]()) {
        state.refusals = 0;
        return;
      }
      state.refusals++;
      const retryAfterMs = Math.ceil((window * 1000) / size);
      const frames = kind === "junk" ? "frames that are no action" : "frames";
      await refuse(
        deps,
        connectionId,
        state.refusals,
        `frames: at most ${size} ${frames} every ${window} s on one connection; wait ${retryAfterMs} ms`,
        retryAfterMs,
      );
    },

    /** A valid frame: the shared buckets of the connection and of its user or session. @throws FrameError RATE_LIMITED */
    async takeTokens(deps: Deps, event: WebSocketEvent, rateClass: RateClass): Promise<void> {
      const { connectionId } = event.requestContext;
      const subject = rules.subject[rateClass] ? await subjectOf(deps, event) : undefined;
      const take = (bucket: string, limit: RateLimit | undefined): Promise<RateVerdict> =>
        limit ? deps.store.takeToken(`${bucket}#${rateClass}`, limit) : Promise.resolve({ allowed: true });
      const [own, shared] = await Promise.all([
        take(`conn#${connectionId}`, rules.connection[rateClass]),
        subject ? take(subject, rules.subject[rateClass]) : Promise.resolve<RateVerdict>({ allowed: true }),
      ]);
      if (own.allowed && shared.allowed) return;
      const [verdict, scope, limit] = !own.allowed
        ? [own, "connection", rules.connection[rateClass]!]
        : [
            shared as Extract<RateVerdict, { allowed: false }>,
            subject!.split("#")[0],
            rules.subject[rateClass]!,
          ];
      const frames =
        rateClass === "write" ? "messages, joins and leaves" : "reads (history, members, listrooms)";
      await refuse(
        deps,
        connectionId,
        verdict.refusals,
        `${rateClass === "write" ? "message" : "read"}: at most ${limit.limit} ${frames} every ${limit.windowSeconds} s per ${scope}; wait ${verdict.retryAfterMs} ms`,
        verdict.retryAfterMs,
      );
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
