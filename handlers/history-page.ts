import type { Deps } from "./deps";
import { frames } from "./protocol";
import { fitting } from "./reply-size";

type MessageFrame = ReturnType<typeof frames.message>;

/** The longest `next` a page can carry: a message id. */
const cursorPlaceholder = "0".repeat(26);

/**
 * A page of a room's history as message frames, oldest to newest, no more than
 * `limit` and no more than fits in one frame with the envelope `build` makes of
 * them: the newest come first, and `next` pages further back from the oldest shown.
 */
export async function historyPage(
  deps: Deps,
  room: string,
  options: { before?: string; limit: number },
  build: (messages: MessageFrame[], next: string | null) => unknown,
): Promise<{ messages: MessageFrame[]; next: string | null }> {
  const page = await deps.store.history(room, options);
  const newestFirst = page.messages.map(frames.message);
  const count = fitting(newestFirst, (items) => build(items, cursorPlaceholder));
  const shown = newestFirst.slice(0, count);
  const next = count < newestFirst.length ? (shown[count - 1]?.id ?? null) : page.next;
  return { messages: shown.reverse(), next };
}
