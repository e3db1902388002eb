import type { ChatService } from "../service";
import { accessStore } from "./access";
import { clientIdStore } from "./client-ids";
import { connectionStore } from "./connections";
import { createStoreContext, type StoreOptions } from "./context";
import { deliveryMarkStore } from "./delivery-marks";
import { membershipStore } from "./memberships";
import { sendReadStore } from "./send-reads";
import { messageStore } from "./messages";
import { rateLimitStore } from "./rate-limits";
import { roomPageStore } from "./room-pages";
import { roomStore } from "./rooms";
import { streamItemReader } from "./stream-items";

export type { Connection } from "../entities/connection";
export type { Membership } from "../entities/membership";
export type { Message } from "../entities/message";
export { roomShard } from "../entities/room";
export type { NewConnection } from "./connections";
export type { ConnectionCap, HeldSlot } from "./connection-slots";
export { defaultStoreOptions, type StoreOptions } from "./context";
export type { MessageKey } from "./delivery-marks";
export {
  ConnectionCapError,
  JoinGuardError,
  RoomBusyError,
  StillConflictingError,
  StillUnprocessedError,
  TransactionCanceledError,
} from "./errors";
export type { JoinGuard, JoinResult } from "./memberships";
export { rank, type CreateRoomResult, type HeldRole, type NewRoomAccess } from "./access";
export type { RoomAccess } from "../entities/room-access";
export { roles, type Role } from "../entities/room-role";
export type {
  ChangeResult,
  HistoryPage,
  HistoryRange,
  MessageChange,
  NewMessage,
  PostResult,
  ReadBudget,
} from "./messages";
export type { RateLimit, RateVerdict } from "./rate-limits";
export type { ShardPositions } from "./room-pages";
export type { RoomChange, RoomCount, RoomInfo } from "./rooms";
export type { StoredItem } from "./stream-items";

/**
 * What the handlers need from storage, one module per concern; each read is one
 * GetItem or one Query, never a Scan. Handlers may depend on a `Pick` of it.
 */
export type ChatStore = ReturnType<typeof createChatStore>;

/** Builds the {@link ChatStore} over an ElectroDB service. */
export function createChatStore(service: ChatService, options: StoreOptions = {}) {
  const context = createStoreContext(service, options);
  const connections = connectionStore(context);
  return {
    ...connections,
    ...membershipStore(context, connections.getConnection),
    ...roomStore(context),
    ...roomPageStore(context),
    ...messageStore(context),
    ...sendReadStore(context),
    ...rateLimitStore(context),
    ...clientIdStore(context),
    ...deliveryMarkStore(context),
    ...streamItemReader(context),
    ...accessStore(context),
  };
}
