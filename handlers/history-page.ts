import type { HistoryRange } from "../model/store";
import type { Deps } from "./deps";
import { frames } from "./frames";
import { listIn, type FrameBudget } from "./reply-size";

export type EventFrame = ReturnType<typeof frames.roomEvent>;

/**
 * A page of a room's history as frames, oldest to newest: at most `limit`, and only as
 * many as `budget` (the reply's room) takes. Without `after` it is the newest page of
 * messages below `before`, each in its current state (edited text, or a tombstone), and
 * `next` is a `before` value for the older page; with `after` it is every event after
 * it, `edited` and `deleted` ones too, and `next` is the `after` value of the following page.
 */
export async function historyPage(
  deps: Deps,
  room: string,
  options: HistoryRange & { limit: number; consistent?: boolean },
  budget: FrameBudget,
): Promise<{ messages: EventFrame[]; next: number | null }> {
  const list = listIn(budget);
  const page = await deps.store.history(room, {
    ...options,
    budget: {
      get left() {
        return budget.left;
      },
      take: (message) => list.add(frames.roomEvent(message)),
    },
  });
  const messages = page.messages.map(frames.roomEvent);
  return { messages: options.after === undefined ? messages.reverse() : messages, next: page.next };
}
