import type { Deps } from "../deps";
import { deliver } from "./fanout";
import { frames } from "../frames";

/** A membership that appeared or disappeared, as the stream tells it. */
export type PresenceEvent = {
  room: string;
  event: "join" | "leave";
  name: string;
  /** The name is a verified token identity's (else the frame marks a guest). */
  verified?: boolean;
  connectionId: string;
  /** A leave an owner or moderator made (kick or ban). */
  kicked?: boolean;
};

/**
 * Announces joins and leaves to the rest of each room, off every handshake: the
 * stream worker calls this after counting a batch. Rooms above `presenceMaxMembers`
 * hear nothing (their counts still move): an announcement costs a post per member,
 * so N joins would cost N² posts. Best effort: a failed announcement is logged, not retried.
 */
export async function announcePresence(
  deps: Deps,
  events: readonly PresenceEvent[],
  counts: ReadonlyMap<string, number>,
): Promise<void> {
  const rooms = new Map<string, PresenceEvent[]>();
  for (const e of events) rooms.set(e.room, [...(rooms.get(e.room) ?? []), e]);
  // Rooms side by side (one slow room does not hold the others); each room's events in order.
  await Promise.all(
    [...rooms].map(([room, roomEvents]) => announceInRoom(deps, room, roomEvents, counts.get(room) ?? 0)),
  );
}

async function announceInRoom(deps: Deps, room: string, roomEvents: PresenceEvent[], size: number) {
  if (size > deps.config.presenceMaxMembers) {
    deps.metrics.count("PresenceSuppressed", roomEvents.length);
    return;
  }
  try {
    const members = await deps.store.membersOf(room, { tidy: true });
    for (const [index, e] of roomEvents.entries()) {
      // Who joined later in this batch did not see this event happen: they are not told.
      const laterJoiners = new Set(
        roomEvents.slice(index + 1).flatMap((later) => (later.event === "join" ? [later.connectionId] : [])),
      );
      const recipients = members
        .map((m) => m.connectionId)
        .filter((id) => id !== e.connectionId && !laterJoiners.has(id));
      await deliver(
        deps,
        room,
        recipients,
        JSON.stringify(frames.presence(room, e.event, e.name, e.verified, e.kicked)),
      );
    }
  } catch (error) {
    deps.log.warn("presence announcement failed", { room, error });
  }
}
