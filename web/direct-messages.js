// Direct messages (auth on): opened from the member list with `dm`; a DM another user
// opens joins this page by itself (a pushed `joined` with `dm`) and is announced.

import { button, el } from "./dom.js";
import { send } from "./connection.js";
import { activate, append, roomLabel } from "./rooms.js";
import { state } from "./state.js";

/** Opens (or reopens) the DM with `subject`; its `joined` reply shows the room. */
export function openDirectMessage(subject) {
  state.pendingDms.add(subject);
  send({ action: "dm", user: subject });
}

/** Whether the page asked for this DM itself (the request is then done). */
export const requestedDirectMessage = (dm) => state.pendingDms.delete(dm.with);

/** A DM another user opened: the room on show says so, with a button to open it. */
export function announceDirectMessage(room, dm) {
  const who = dm.name ?? dm.with;
  const item = el("li", "presence", `${who} opened a direct message with you `);
  const open = button("Open", () => activate(room), "small");
  open.setAttribute("aria-label", `Open ${roomLabel(room, dm)}`);
  item.append(open);
  append(state.active, item);
}

/** A saved DM (from localStorage) as the page keeps it, or undefined when it is not one. */
export function savedDirectMessage(dm) {
  if (typeof dm?.with !== "string") return undefined;
  return { with: dm.with, ...(typeof dm.name === "string" && { name: dm.name }) };
}
