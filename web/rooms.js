// Rooms and their logs: which rooms the page is in, the one shown, and each log's
// messages in seq order, each seq once, with gaps fetched.

import { el, ui } from "./dom.js";
import { send } from "./connection.js";
import { decorate, messageItem, applyChange } from "./messages.js";
import { moderates, state } from "./state.js";
import { saveRooms } from "./storage.js";

export function roomState(name) {
  let room = state.rooms.get(name);
  if (!room) {
    const log = el("ol", "log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-label", `Messages in ${name}`);
    log.hidden = true;
    ui.logs.append(log);
    room = {
      log,
      seen: new Set(),
      lastSeq: 0,
      maxSeq: 0,
      next: undefined,
      members: 0,
      unread: 0,
      joined: false,
      filling: null,
      role: undefined,
    };
    state.rooms.set(name, room);
  }
  return room;
}

/** How a room is shown: `#name`, or a direct message as `@` and the other user's name. */
export const roomLabel = (name, dm = state.rooms.get(name)?.dm) =>
  dm ? `@${dm.name ?? dm.with}` : `#${name}`;

export function activate(name) {
  state.active = name;
  const room = state.rooms.get(name);
  for (const [other, { log }] of state.rooms) log.hidden = other !== name;
  if (room) room.unread = 0;
  ui.members.hidden = true;
  ui.inviteBox.hidden = true;
  ui.showMembers.setAttribute("aria-expanded", "false");
  setDrawer(false);
  renderRoomList();
  updateRoomHeader();
  scrollToEnd();
}

/** On a narrow screen the sidebar is a drawer over the chat. */
export function setDrawer(open) {
  ui.sidebar.classList.toggle("open", open);
  ui.toggleSidebar.setAttribute("aria-expanded", String(open));
}

export function updateRoomHeader() {
  const room = state.rooms.get(state.active);
  const usable = Boolean(room?.joined);
  ui.roomTitle.textContent = state.active ? roomLabel(state.active) : "No room yet";
  ui.memberCount.textContent = room ? `${room.members} ${room.members === 1 ? "member" : "members"}` : "";
  ui.loadOlder.hidden = !room?.next;
  ui.loadOlder.disabled = !usable;
  ui.showMembers.disabled = !usable;
  ui.leaveRoom.disabled = !usable;
  ui.invite.hidden = !moderates(room);
  ui.invite.disabled = !usable;
  // Typing stays possible while reconnecting: the outbox sends it once the room is joined again.
  ui.message.disabled = !room;
  ui.send.disabled = !room;
}

export function renderRoomList() {
  const items = [...state.rooms].map(([name, room]) => {
    const label = roomLabel(name, room.dm);
    const entry = el("button", "room-button", label);
    entry.type = "button";
    if (name === state.active) entry.setAttribute("aria-current", "true");
    if (room.unread) {
      entry.append(el("span", "badge", String(room.unread)));
      entry.setAttribute("aria-label", `${label}, ${room.unread} unread`);
    }
    entry.addEventListener("click", () => activate(name));
    const item = el("li");
    item.append(entry);
    return item;
  });
  ui.roomList.replaceChildren(...items);
}

function isNearEnd() {
  return ui.logs.scrollHeight - ui.logs.scrollTop - ui.logs.clientHeight < 80;
}

export function scrollToEnd() {
  ui.logs.scrollTop = ui.logs.scrollHeight;
}

/** Appends to a room's log, following the newest line only if the reader was already there. */
export function append(roomName, node) {
  const room = state.rooms.get(roomName);
  if (!room) return;
  const follow = roomName === state.active && isNearEnd();
  room.log.append(node);
  decorate(room.log);
  if (follow) scrollToEnd();
}

/**
 * Puts a message where its seq sorts, above messages still being sent. Delivery is at
 * least once and not in order: a push can be older than the newest shown, and a gap's
 * history arrives later still.
 */
export function place(room, roomName, item) {
  const seq = Number(item.dataset.seq);
  const later = [...room.log.querySelectorAll(".message[data-seq], .message.pending, .message.failed")].find(
    (m) => m !== item && (m.dataset.seq === undefined || Number(m.dataset.seq) > seq),
  );
  if (later) {
    later.before(item);
    decorate(room.log);
  } else append(roomName, item);
}

/**
 * Records a room event's seq; false when it is already on the page (a repeat). Moves
 * `lastSeq` over every seq now shown without a gap, and asks for a gap it sees.
 */
export function remember(room, roomName, seq) {
  if (room.seen.has(seq) || seq <= room.lastSeq) return false;
  room.seen.add(seq);
  room.maxSeq = Math.max(room.maxSeq, seq);
  while (room.seen.has(room.lastSeq + 1)) room.lastSeq += 1;
  if (room.maxSeq > room.lastSeq) fillGap(room, roomName);
  persistRooms();
  return true;
}

/** Fetches what came after `lastSeq`, one request at a time per room. */
export function fillGap(room, roomName, after = room.lastSeq) {
  if (room.filling !== null || !room.joined) return;
  room.filling = after;
  send({ action: "history", room: roomName, after });
}

/**
 * Shows a room's events (history, resumed, joined, pushes), each seq once: a message where
 * its seq sorts, an edit or delete applied to the message it changes. True if it was new.
 */
export function showEvent(room, roomName, event) {
  if (!remember(room, roomName, event.seq)) return false;
  if (event.type === "edited" || event.type === "deleted") applyChange(room.log, event);
  else place(room, roomName, messageItem({ ...event, room: roomName }));
  return true;
}

export function showEvents(room, roomName, events) {
  for (const event of events) showEvent(room, roomName, event);
}

/** What a reload needs: the session and each room's last seq, role and, for a DM, whom it is with. */
export function persistRooms() {
  if (!state.session) return;
  const rooms = [...state.rooms].map(([room, { lastSeq, role, dm }]) => ({ room, after: lastSeq, role, dm }));
  // The token stays out of localStorage (storage.js keeps it per tab).
  const { token: _token, ...session } = state.session;
  saveRooms(session, rooms);
}

/** Each room counts as not joined until the next connection resumes it. */
export function markRoomsUnjoined() {
  for (const room of state.rooms.values()) {
    room.joined = false;
    room.filling = null;
  }
}
