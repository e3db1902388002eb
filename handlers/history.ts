import { actionRoute } from "./action-route";
import { historyPage } from "./history-page";
import { requireMember } from "./membership";

/** `history`: a page of a room's messages, oldest to newest; `next` pages further back. */
export const historyRoute = actionRoute(
  "history",
  { table: ["GetItem", "Query"], post: false },
  async ({ room, before, limit }, event, deps) => {
    await requireMember(deps, room, event.requestContext.connectionId);
    const envelope = (messages: unknown[], next: string | null) => ({
      type: "history",
      room,
      messages,
      next,
    });
    const page = await historyPage(
      deps,
      room,
      { before, limit: limit ?? deps.config.historyPageDefault },
      envelope,
    );
    return envelope(page.messages, page.next);
  },
);
