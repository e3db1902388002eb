import { randomBytes } from "node:crypto";
import type { ChatService } from "./service";

/** Client sessions the server issues and later recognises (handlers/session.ts, `$connect`). */
export interface SessionStore {
  /** Issues a new session id (192 random bits) and records it: one PutItem. */
  issue(): Promise<string>;
  /** True when the server issued this id and it has not expired: one GetItem. */
  isIssued(id: string): Promise<boolean>;
  /**
   * Makes `id` the connection's session unless it has one already; returns the
   * connection's session either way (undefined when the connection is gone).
   */
  bind(connectionId: string, id: string): Promise<string | undefined>;
}

export function createSessionStore(
  service: ChatService,
  options: { sessionTtlSeconds: number; now?: () => number },
): SessionStore {
  const { session, connection } = service.entities;
  const now = options.now ?? Date.now;
  const nowSeconds = () => Math.floor(now() / 1000);
  return {
    async issue() {
      const id = randomBytes(24).toString("base64url");
      await session.create({ id, issuedAt: now(), expiresAt: nowSeconds() + options.sessionTtlSeconds }).go();
      return id;
    },
    async isIssued(id) {
      const { data } = await session.get({ id }).go();
      return !!data && data.expiresAt > nowSeconds();
    },
    async bind(connectionId, id) {
      try {
        await connection
          .patch({ connectionId })
          .set({ sessionId: id })
          .where((a, op) => op.notExists(a.sessionId))
          .go();
        return id;
      } catch (error) {
        // The connection has a session already (or is gone): report what it has.
        if ((error as { cause?: { name?: string } }).cause?.name !== "ConditionalCheckFailedException") {
          throw error;
        }
        const { data } = await connection.get({ connectionId }).go({ consistent: true });
        return data?.sessionId;
      }
    },
  };
}
