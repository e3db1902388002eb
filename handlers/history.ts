import { actionRoute } from "./action-route";
import { historyPage } from "./history-page";
import { requireMember } from "./membership";
import { frameBudget, seqPlaceholder } from "./reply-size";

/**
 * `history`: a page of a room's messages, oldest to newest; `next` pages further back
 * (a `before`), or with `after` further forward (an `after`).
 */
export const historyRoute = actionRoute(
  "history",
  { table: ["GetItem", "Query"], post: false },
  async ({ room, before, after, limit }, event, deps) => {
    await requireMember(deps, room, event.requestContext.connectionId);
    const envelope = (messages: unknown[], next: number | null) => ({
      type: "history",
      room,
      messages,
      next,
    });
    const page = await historyPage(
      deps,
      room,
      { before, after, limit: limit ?? deps.config.historyPageDefault },
      frameBudget(envelope([], seqPlaceholder)),
    );
    return envelope(page.messages, page.next);
  },
);
