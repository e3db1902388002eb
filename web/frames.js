// What the page does with each frame the server sends (wire protocol v1, the README's protocol section).

import { el, showError, ui } from "./dom.js";
import { firstRetryMs, isOpen, send } from "./connection.js";
import { announceDirectMessage, openDirectMessage, requestedDirectMessage } from "./direct-messages.js";
import { moderationFrames, note, showMembers } from "./moderation.js";
import { acknowledged, dropOutbox, gatewayError, refusedInFlight, sendNext } from "./outbox.js";
import {
  activate,
  append,
  fillGap,
  persistRooms,
  place,
  renderRoomList,
  roomLabel,
  roomState,
  showEvent,
  showEvents,
  updateRoomHeader,
} from "./rooms.js";
import { messageItem } from "./messages.js";
import { state } from "./state.js";
import { saveSession } from "./storage.js";

export function dispatch(frame) {
  // API Gateway's own frames carry no type: {"message": "Internal server error", "connectionId", "requestId"}.
  if (frame?.type === undefined && typeof frame?.message === "string") gatewayError(frame);
  else handlers[frame?.type]?.(frame);
}

/** A room the page is no longer in: its log goes, and what was not yet sent to it. */
function forget(name) {
  const room = state.rooms.get(name);
  if (!room) return;
  room.log.remove();
  state.rooms.delete(name);
  dropOutbox(name);
  if (state.active === name) activate(state.rooms.keys().next().value ?? null);
  else renderRoomList();
}

/** An edit or delete pushed live (or the reply to the page's own). */
function change(frame) {
  const room = state.rooms.get(frame.room);
  if (room) showEvent(room, frame.room, frame);
}

const handlers = {
  ...moderationFrames,

  session({ session }) {
    saveSession(session);
  },

  joined({ room: name, members, history, next, seq, dm }) {
    const firstJoin = !state.rooms.has(name);
    const room = roomState(name);
    room.joined = true;
    room.members = members;
    if (dm) room.dm = dm;
    // A DM the page asked for is shown; one another user opened joined it without asking:
    // announced, not switched to.
    const asked = dm !== undefined && requestedDirectMessage(dm);
    if (firstJoin) {
      room.next = next;
      // Everything before the page shown is older history, not a gap.
      room.lastSeq = history.length ? history[0].seq - 1 : seq;
      room.maxSeq = room.lastSeq;
    }
    if (state.pendingRoles.has(name)) {
      room.role = state.pendingRoles.get(name);
      state.pendingRoles.delete(name);
    }
    showEvents(room, name, history);
    persistRooms();
    if (state.invite?.room === name) {
      state.invite = null;
      window.history.replaceState(null, "", location.pathname + location.search);
    }
    if (!state.active || asked || (firstJoin && !dm)) activate(name);
    else renderRoomList();
    if (firstJoin && dm && !asked) announceDirectMessage(name, dm);
    updateRoomHeader();
    sendNext();
  },

  resumed({ rooms, failed }) {
    for (const { room: name, members, history, next, seq } of rooms) {
      const room = roomState(name);
      room.members = members;
      // Shown before the room counts as joined, so the reply's own history opens no fill of its own.
      showEvents(room, name, history);
      room.joined = true;
      // A backlog that did not fit goes on with history … after; so does a gap (pushes seen
      // before this reply, from a newer seq than it carried).
      if (next !== null) fillGap(room, name, Math.max(next, room.lastSeq));
      else if (Math.max(seq, room.maxSeq) > room.lastSeq) fillGap(room, name);
    }
    for (const { room, code, message } of failed) {
      showError(`${code}: #${room}: ${message}`);
      // Let in no more (kicked from a private room, banned): the room goes from the page.
      if (code === "FORBIDDEN" || code === "BANNED") forget(room);
    }
    if (!state.active) activate(state.rooms.keys().next().value ?? null);
    renderRoomList();
    updateRoomHeader();
    sendNext();
  },

  left({ room, kicked, banned, until, by }) {
    forget(room);
    // A kick or ban: the page says who did it (the room is gone from it, so not in its log).
    if (kicked || banned) {
      const what = banned
        ? `banned you from #${room}${until ? ` until ${new Date(until).toLocaleString()}` : ""}`
        : `removed you from #${room}`;
      showError(`${by} ${what}`);
    }
  },

  message(message) {
    const room = state.rooms.get(message.room);
    if (!room || !showEvent(room, message.room, message)) return;
    if (message.room !== state.active) {
      room.unread += 1;
      renderRoomList();
    }
  },

  edited: change,
  deleted: change,

  presence({ room: name, event, name: who, kicked }) {
    const room = state.rooms.get(name);
    if (!room) return;
    room.members = Math.max(0, room.members + (event === "join" ? 1 : -1));
    const what = event === "join" ? "joined" : kicked ? "was removed" : "left";
    append(name, el("li", "presence", `${who} ${what}`));
    if (name !== state.active) return;
    updateRoomHeader();
    // A member list on show follows who comes and goes.
    if (!ui.members.hidden) send({ action: "members", room: name });
  },

  ack(frame) {
    acknowledged(frame);
  },

  history({ room: name, messages, next }) {
    const room = state.rooms.get(name);
    if (!room) return;
    // A gap's fill (history … after) is told from an older page by the `after` it asked for:
    // its events all come after it, an older page's all before what is shown. (Not by
    // `lastSeq`: pushes and the resumed reply may have filled the gap while it was in flight.)
    if (room.filling !== null && (messages.length === 0 || messages[0].seq > room.filling)) {
      room.filling = null;
      showEvents(room, name, messages);
      // `next` goes on after this page; a gap still open (seen meanwhile) is asked for again.
      if (next !== null) fillGap(room, name, Math.max(next, room.lastSeq));
      else if (room.maxSeq > room.lastSeq) fillGap(room, name);
      return;
    }
    room.next = next;
    const older = messages.filter((m) => !room.seen.has(m.seq)).map((m) => messageItem({ ...m, room: name }));
    for (const m of messages) room.seen.add(m.seq);
    // Keep the reader's place: the log grows above what they are looking at.
    const fromEnd = ui.logs.scrollHeight - ui.logs.scrollTop;
    for (const item of older) place(room, name, item);
    if (name === state.active) ui.logs.scrollTop = ui.logs.scrollHeight - fromEnd;
    updateRoomHeader();
  },

  members: showMembers,

  rooms({ rooms, next }) {
    // A page that continues a listing (`after` = the previous `next`) adds to it; a new listing replaces it.
    const continuing = state.roomsAfter !== undefined;
    state.roomsAfter = undefined;
    const items = rooms.map(({ room, members, private: isPrivate, dm }) => {
      const label = roomLabel(room, state.rooms.get(room)?.dm ?? dm);
      const entry = el("button", "room-button", label);
      entry.type = "button";
      const lock = isPrivate ? "private, " : "";
      entry.append(el("span", "muted", ` ${isPrivate ? "🔒 " : ""}${members}`));
      entry.setAttribute(
        "aria-label",
        `Join ${label} (${lock}${members} ${members === 1 ? "member" : "members"})`,
      );
      // A DM is reopened with `dm`, whose reply says whom it is with.
      entry.addEventListener("click", () => (dm ? openDirectMessage(dm.with) : join(room)));
      const item = el("li");
      item.append(entry);
      return item;
    });
    if (continuing) ui.allRooms.querySelector(".more-rooms")?.remove();
    else ui.allRooms.replaceChildren();
    ui.allRooms.append(...(items.length || continuing ? items : [el("li", "muted", "No rooms yet")]));
    if (next) {
      const more = el("button", "room-button", "More rooms…");
      more.type = "button";
      more.addEventListener("click", () => {
        state.roomsAfter = next;
        send({ action: "listrooms", after: next });
      });
      const item = el("li", "more-rooms");
      item.append(more);
      ui.allRooms.append(item);
    }
  },

  error({ code, message, action, retryAfterMs }) {
    showError(`${code}: ${message}`);
    if (action === "joinroom" && state.invite && ["INVITE_INVALID", "FORBIDDEN", "BANNED"].includes(code))
      state.invite = null;
    // A refused resume or gap fill would leave rooms unjoined or gaps open: asked again shortly.
    if (
      (action === "resume" || action === "history") &&
      !["INVALID", "NOT_A_MEMBER", "FORBIDDEN"].includes(code)
    )
      retryLater(retryAfterMs);
    if (action === "sendmessage" && state.inFlight) {
      const { room } = state.inFlight;
      refusedInFlight(code);
      // No longer let in (kicked or banned meanwhile): the room goes, with a note why.
      if (code === "NOT_A_MEMBER" || code === "FORBIDDEN") {
        forget(room);
        note(state.active, `You are no longer in #${room}`);
      }
    }
  },
};

export function join(room, invite) {
  if (state.rooms.get(room)?.joined) activate(room);
  else send({ action: "joinroom", room, ...(invite && { invite }) });
}

/**
 * After a refused `resume` (rate limit, a transient failure): resumes the rooms not yet
 * joined on this connection and refills open gaps, once `retryAfterMs` has passed.
 */
function retryLater(retryAfterMs) {
  const socket = state.socket;
  for (const room of state.rooms.values()) room.filling = null;
  clearTimeout(state.resumeTimer);
  state.resumeTimer = setTimeout(
    () => {
      if (state.socket !== socket || !isOpen()) return; // a new connection resumes anew
      const rooms = [...state.rooms]
        .filter(([, room]) => !room.joined)
        .map(([room, { lastSeq }]) => ({ room, after: lastSeq }));
      if (rooms.length) send({ action: "resume", rooms });
      for (const [name, room] of state.rooms) if (room.maxSeq > room.lastSeq) fillGap(room, name);
    },
    Number.isSafeInteger(retryAfterMs) && retryAfterMs > 0 ? retryAfterMs : firstRetryMs * 2,
  );
}
