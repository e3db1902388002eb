import type { HistoryRange } from "../model/store";
import type { Deps } from "./deps";
import { frames } from "./frames";
import { listIn, type FrameBudget } from "./reply-size";

export type MessageFrame = ReturnType<typeof frames.message>;

/**
 * A page of a room's history as message frames, oldest to newest: at most `limit`, and
 * only as many as `budget` (the reply's room) takes. Without `after` it is the newest
 * page below `before`, and `next` is a `before` value for the older page; with `after`
 * it is what came after it, and `next` is the `after` value of the following page.
 */
export async function historyPage(
  deps: Deps,
  room: string,
  options: HistoryRange & { limit: number; consistent?: boolean },
  budget: FrameBudget,
): Promise<{ messages: MessageFrame[]; next: number | null }> {
  const list = listIn(budget);
  const page = await deps.store.history(room, {
    ...options,
    budget: {
      get left() {
        return budget.left;
      },
      take: (message) => list.add(frames.message(message)),
    },
  });
  const messages = page.messages.map(frames.message);
  return { messages: options.after === undefined ? messages.reverse() : messages, next: page.next };
}
