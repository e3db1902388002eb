import { Service } from "electrodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createClientMessageEntity } from "./entities/client-message";
import { createConnectionEntity } from "./entities/connection";
import { createMembershipEntity } from "./entities/membership";
import { createMessageEntity } from "./entities/message";
import { createRoomEntity } from "./entities/room";

/**
 * Joins roomcast's entities on one table. Built by a factory, never at import
 * time, so a Lambda builds it at cold start from its own client.
 */
export function createChatService(client: DynamoDBDocumentClient, table: string) {
  const config = { client, table };
  return new Service({
    connection: createConnectionEntity(config),
    membership: createMembershipEntity(config),
    message: createMessageEntity(config),
    clientMessage: createClientMessageEntity(config),
    room: createRoomEntity(config),
  });
}

export type ChatService = ReturnType<typeof createChatService>;
