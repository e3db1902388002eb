import { Service } from "electrodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createClientMessageEntity } from "./entities/client-message";
import { createConnectionEntity } from "./entities/connection";
import { createConnectionSlotEntity } from "./entities/connection-slot";
import { createCountedChangeEntity } from "./entities/counted-change";
import { createDeliveryMarkEntity } from "./entities/delivery-mark";
import { createMembershipEntity } from "./entities/membership";
import { createMessageEntity } from "./entities/message";
import { createMessageIdEntity } from "./entities/message-id";
import { createRateLimitEntity } from "./entities/rate-limit";
import { createRoomEntity } from "./entities/room";
import { createRoomHeadEntity } from "./entities/room-head";
import { createSessionEntity } from "./entities/session";
import { createBanEntity } from "./entities/ban";
import { createInvitationEntity } from "./entities/invitation";
import { createRoomAccessEntity } from "./entities/room-access";
import { createRoomRoleEntity } from "./entities/room-role";
import { createUserConnectionEntity } from "./entities/user-connection";

/**
 * ElectroDB's entity and version attributes, renamed from `__edb_e__`/`__edb_v__`:
 * they are on every item, and 16 bytes less per membership is 20% of a broadcast's reads.
 */
export const entityIdentifiers = { entity: "e", version: "v" } as const;

/**
 * Joins roomcast's entities on one table. Built by a factory, never at import
 * time, so a Lambda builds it at cold start from its own client.
 */
export function createChatService(client: DynamoDBDocumentClient, table: string) {
  const config = { client, table };
  const entities = {
    connection: createConnectionEntity(config),
    connectionSlot: createConnectionSlotEntity(config),
    membership: createMembershipEntity(config),
    message: createMessageEntity(config),
    messageId: createMessageIdEntity(config),
    clientMessage: createClientMessageEntity(config),
    room: createRoomEntity(config),
    countedChange: createCountedChangeEntity(config),
    roomHead: createRoomHeadEntity(config),
    session: createSessionEntity(config),
    rateLimit: createRateLimitEntity(config),
    deliveryMark: createDeliveryMarkEntity(config),
    roomAccess: createRoomAccessEntity(config),
    roomRole: createRoomRoleEntity(config),
    invitation: createInvitationEntity(config),
    ban: createBanEntity(config),
    userConnection: createUserConnectionEntity(config),
  };
  for (const entity of Object.values(entities)) {
    entity.setIdentifier("entity", entityIdentifiers.entity);
    entity.setIdentifier("version", entityIdentifiers.version);
  }
  // The document client beside the entities: a read of items of several entities at once
  // (one BatchGetItem) is not an ElectroDB operation.
  return Object.assign(new Service(entities), { documentClient: client, table });
}

export type ChatService = ReturnType<typeof createChatService>;
