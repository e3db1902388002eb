import { actionRoute } from "./action-route";
import { requireMember } from "./membership";
import { frames } from "./protocol";

/** `history`: a page of a room's messages, oldest to newest; `next` pages further back. */
export const historyRoute = actionRoute("history", async ({ room, before, limit }, event, deps) => {
  await requireMember(deps, room, event.requestContext.connectionId);
  const page = await deps.store.history(room, { before, limit: limit ?? deps.config.historyPageDefault });
  return { type: "history", room, messages: page.messages.map(frames.message).reverse(), next: page.next };
});
