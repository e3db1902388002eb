import { setTimeout as delay } from "node:timers/promises";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import { createDocumentClient, createDynamoClient } from "../../model/client";
import { createChatService, entityIdentifiers } from "../../model/service";
import { createChatStore, type Message } from "../../model/store";

/** The store over a running stack's table, to compare what clients saw with what is stored. */
export function openStackTable(stack: { dynamodbEndpoint: string; tableName: string }) {
  const client = createDynamoClient(stack.dynamodbEndpoint);
  const doc = createDocumentClient(client);
  const service = createChatService(doc, stack.tableName);
  const store = createChatStore(service);

  return {
    store,
    /** The same store on another clock: records written through it look older (or newer). */
    storeAt: (now: () => number) => createChatStore(service, { now }),

    /** Every stored message of these rooms, through the store's own history paging. */
    async history(...rooms: string[]): Promise<Message[]> {
      const all: Message[] = [];
      for (const room of rooms) {
        let before: number | undefined;
        do {
          const page = await store.history(room, { before, limit: 100 });
          all.push(...page.messages);
          before = page.next ?? undefined;
        } while (before);
      }
      return all;
    },

    /**
     * Every item of one entity, wherever it is: a Scan, which runtime code never
     * does, is exactly how a test finds an orphan no Query would reach.
     */
    async itemsOf(entity: "connection" | "membership"): Promise<Record<string, unknown>[]> {
      const items: Record<string, unknown>[] = [];
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await doc.send(
          new ScanCommand({
            TableName: stack.tableName,
            ConsistentRead: true,
            FilterExpression: "#entity = :entity",
            ExpressionAttributeNames: { "#entity": entityIdentifiers.entity },
            ExpressionAttributeValues: { ":entity": entity },
            ExclusiveStartKey,
          }),
        );
        items.push(...(page.Items ?? []));
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      return items;
    },

    /** Memberships of one connection, in any room (a Scan again: nothing else could find an orphan). */
    async membershipsOf(connectionId: string): Promise<Record<string, unknown>[]> {
      return (await this.itemsOf("membership")).filter((item) => item.sk === connectionId);
    },

    close: () => client.destroy(),
  };
}

export type StackTable = ReturnType<typeof openStackTable>;

/**
 * Polls `check` until it stops throwing: `$disconnect` runs after the close, in
 * the background, as in AWS. The deadline only bounds a hung run; nothing is timed.
 */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await delay(200);
    }
  }
}
