import { BatchGetCommand } from "@aws-sdk/lib-dynamodb";
import type { Connection } from "../entities/connection";
import type { Membership } from "../entities/membership";
import type { StoreContext } from "./context";

/** What a write to a room reads about its sender and the room first. */
export type SendReads = {
  connection: Connection | undefined;
  membership: Membership | undefined;
  /** The room's head: its last seq but for events still being settled. */
  headSeq: number;
};

/**
 * The reads before a room write (`sendmessage`, `editmessage`, `deletemessage`): the sender's
 * connection, its membership and the room's head, three items of three entities, in one
 * strongly consistent BatchGetItem: one request where three GetItems would be three
 * (measured on DynamoDB Local: 2.7 ms against 4.4 ms for three side by side). A connection
 * the caller read already (to find its default room) is not read again.
 */
export function sendReadStore({ entities, documentClient, table, untilAllProcessed, live }: StoreContext) {
  const { connection, membership, roomHead } = entities;
  return {
    /** `known`: the sender's connection, when the caller has read it already (not read again). */
    async sendReads(room: string, connectionId: string, known?: Connection): Promise<SendReads> {
      type Key = Record<string, unknown>;
      const keys: Partial<Record<"connection" | "membership" | "head", Key>> = {
        ...(!known && { connection: connection.get({ connectionId }).params().Key }),
        membership: membership.get({ room, connectionId }).params().Key,
        head: roomHead.get({ room }).params().Key,
      };
      const keyOf = (key: Key) => `${key.pk}\u0000${key.sk}`;
      const wanted = new Map(Object.entries(keys).map(([name, key]) => [keyOf(key!), name]));
      const found = new Map<string, Record<string, unknown>>();
      await untilAllProcessed(Object.values(keys) as Key[], async (pending) => {
        const { Responses, UnprocessedKeys } = await documentClient.send(
          new BatchGetCommand({ RequestItems: { [table]: { Keys: [...pending], ConsistentRead: true } } }),
        );
        for (const item of Responses?.[table] ?? []) found.set(wanted.get(keyOf(item))!, item);
        return (UnprocessedKeys?.[table]?.Keys as Key[] | undefined) ?? [];
      });
      const parsed = <T>(
        entity: { parse(r: { Item: Record<string, unknown> }): { data: T | null } },
        name: string,
      ) => {
        const item = found.get(name);
        return item ? (entity.parse({ Item: item }).data ?? undefined) : undefined;
      };
      const conn = parsed<Connection>(connection, "connection");
      const member = parsed<Membership>(membership, "membership");
      return {
        connection: known ?? (live(conn) ? conn : undefined),
        membership: live(member) ? member : undefined,
        headSeq: parsed<{ seq: number }>(roomHead, "head")?.seq ?? 0,
      };
    },
  };
}
