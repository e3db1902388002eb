// roomcast web client: plain ES modules, no build step. This one wires the page: the
// forms, startup (config, token, invitation link, reload), and the connection's events.

import { askForToken, tokenFromAddress, tokenName } from "./auth.js";
import { onConnection, open, close, send } from "./connection.js";
import { setStatus, showError, ui } from "./dom.js";
import { dispatch, join } from "./frames.js";
import { savedDirectMessage } from "./direct-messages.js";
import { copyInvite, createRoom, inviteFromHash } from "./moderation.js";
import { sendMessage } from "./outbox.js";
import {
  markRoomsUnjoined,
  persistRooms,
  renderRoomList,
  roomState,
  setDrawer,
  updateRoomHeader,
} from "./rooms.js";
import { state } from "./state.js";
import {
  forgetRooms,
  loadPrefs,
  loadRooms,
  roomPattern,
  savePrefs,
  saveToken,
  storedToken,
} from "./storage.js";

// A debug hook for tests and the console: `roomcast.socket.close()` simulates a dropped connection.
window.roomcast = {
  get socket() {
    return state.socket;
  },
};

onConnection({
  opened() {
    // The default room is joined at connect without a reply: joining it again fetches its history.
    // After a reconnect or a reload, every room the page was in resumes from its last seq.
    if (state.rooms.size === 0) send({ action: "joinroom", room: state.session.room || "lobby" });
    else {
      const rooms = [...state.rooms].map(([room, { lastSeq }]) => ({ room, after: lastSeq }));
      send({ action: "resume", rooms });
    }
    send({ action: "listrooms" });
    send({ action: "session" });
    if (state.invite) join(state.invite.room, state.invite.code);
  },
  frame: dispatch,
  closed() {
    state.inFlight = null; // resent after the reconnect, with the same clientId
    markRoomsUnjoined();
  },
  connected(connected) {
    ui.disconnect.disabled = !state.session;
    ui.listRooms.disabled = !connected;
    ui.connect.textContent = state.session ? "Reconnect" : "Connect";
    updateRoomHeader();
  },
});

/** A fresh start with the form's settings: rooms, logs and unsent messages are dropped. */
function connect(session) {
  close();
  for (const room of state.rooms.values()) room.log.remove();
  state.rooms.clear();
  state.active = null;
  state.outbox = [];
  state.inFlight = null;
  state.retries = 0;
  state.session = session;
  persistRooms();
  ui.roomList.replaceChildren();
  ui.allRooms.replaceChildren();
  renderRoomList();
  updateRoomHeader();
  open();
}

function disconnect() {
  close();
  state.session = null;
  forgetRooms();
  ui.disconnect.disabled = true;
  ui.listRooms.disabled = true;
  ui.connect.textContent = "Connect";
  setStatus("Disconnected");
}

async function loadConfig() {
  try {
    const response = await fetch("config.json");
    if (response.ok) return await response.json();
  } catch {
    // Not served by the local stack: fall back to this page's own host.
  }
  return { wsUrl: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host || "localhost:3001"}` };
}

function isSocketUrl(text) {
  try {
    return /^wss?:$/.test(new URL(text).protocol);
  } catch {
    return false;
  }
}

/** The connect form's session, or null (and why, shown) when it cannot be used. */
function formSession() {
  const session = {
    url: ui.url.value.trim(),
    name: ui.name.value.trim(),
    room: ui.defaultRoom.value.trim(),
    token: ui.token.value.trim(),
  };
  // With a token the name is the token's.
  if (session.token) session.name = tokenName(session.token) ?? "";
  if (!isSocketUrl(session.url)) {
    showError("Server: use a ws:// or wss:// URL");
    return null;
  }
  if (state.authRequired && !session.token) {
    askForToken();
    return null;
  }
  return session;
}

function startSession(session) {
  savePrefs({ name: ui.name.value.trim(), room: session.room });
  saveToken(session.token);
  ui.error.hidden = true;
  connect(session);
}

ui.connectForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const session = formSession();
  if (session) startSession(session);
});

/** After a reload: the session and rooms the page had, resumed from each room's last seq. */
function restore() {
  const saved = loadRooms();
  if (!saved || !isSocketUrl(saved.session.url)) return false;
  ui.url.value = saved.session.url;
  if (state.authRequired && !ui.token.value.trim()) return false;
  const token = ui.token.value.trim();
  state.session = { ...saved.session, token, ...(token && { name: tokenName(token) ?? "" }) };
  for (const { room: name, after, role, dm } of saved.rooms) {
    const room = roomState(name);
    room.lastSeq = after;
    room.maxSeq = after;
    if (["owner", "moderator", "member"].includes(role)) room.role = role;
    room.dm = savedDirectMessage(dm);
    // "Load older" shows what came before the reload.
    room.next = after > 0 ? after + 1 : null;
  }
  renderRoomList();
  open();
  return true;
}

ui.disconnect.addEventListener("click", disconnect);

ui.joinForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const room = ui.joinRoom.value.trim();
  if (!roomPattern.test(room)) {
    showError("Room: 1 to 64 characters of A-Z, a-z, 0-9, _ or -");
    return;
  }
  join(room);
  ui.joinRoom.value = "";
});

ui.createForm.addEventListener("submit", (event) => {
  event.preventDefault();
  if (createRoom(ui.createRoom.value.trim(), ui.createPrivate.checked)) ui.createRoom.value = "";
});

ui.listRooms.addEventListener("click", () => send({ action: "listrooms" }));
ui.showMembers.addEventListener("click", () => {
  if (!ui.members.hidden) {
    ui.members.hidden = true;
    ui.showMembers.setAttribute("aria-expanded", "false");
  } else send({ action: "members", room: state.active });
});
ui.invite.addEventListener("click", () => {
  ui.copyInvite.textContent = "Copy link";
  send({ action: "invite", room: state.active });
});
ui.copyInvite.addEventListener("click", copyInvite);
ui.leaveRoom.addEventListener("click", () => send({ action: "leaveroom", room: state.active }));
ui.loadOlder.addEventListener("click", () => {
  const room = state.rooms.get(state.active);
  if (room?.next) send({ action: "history", room: state.active, before: room.next });
});
ui.dismissError.addEventListener("click", () => (ui.error.hidden = true));
ui.toggleSidebar.addEventListener("click", () => setDrawer(!ui.sidebar.classList.contains("open")));
ui.closeSidebar.addEventListener("click", () => {
  setDrawer(false);
  ui.toggleSidebar.focus();
});
ui.sidebar.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && ui.sidebar.classList.contains("open")) {
    setDrawer(false);
    ui.toggleSidebar.focus();
  }
});

ui.composer.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = ui.message.value;
  if (!text.trim() || !state.active) return;
  sendMessage(text);
  ui.message.value = "";
});
// Enter sends, Shift+Enter adds a line.
ui.message.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    ui.composer.requestSubmit();
  }
});

/** An invitation link opened in this tab: joined now if connected, else once connected. */
function followInvite() {
  state.invite = inviteFromHash(location.hash);
  if (!state.invite) return;
  if (state.socket?.readyState === WebSocket.OPEN) join(state.invite.room, state.invite.code);
  else if (!state.session) {
    const session = formSession();
    if (session) startSession(session);
  }
}
window.addEventListener("hashchange", followInvite);

const prefs = loadPrefs();
const config = await loadConfig();
state.authRequired = config.auth === true;
ui.name.value = prefs.name ?? "";
ui.defaultRoom.value = prefs.room ?? "";
ui.url.value = config.wsUrl;
const addressToken = tokenFromAddress();
ui.token.value = addressToken ?? storedToken();
ui.token.required = state.authRequired;
// With a token, the name comes from it: the Name field does not apply.
ui.name.disabled = Boolean(ui.token.value);
ui.token.addEventListener("input", () => (ui.name.disabled = Boolean(ui.token.value.trim())));

if (!restore()) {
  if (addressToken) {
    const session = formSession();
    if (session) startSession(session);
  } else if (state.authRequired && !ui.token.value) askForToken();
}
followInvite();
