// roomcast web client: a plain ES module, no build step. It speaks wire protocol v1
// (the README's protocol section). User data is only ever written with textContent, never as HTML.

const $ = (id) => document.getElementById(id);
const ui = {
  connectForm: $("connect-form"),
  url: $("ws-url"),
  name: $("name"),
  defaultRoom: $("default-room"),
  connect: $("connect"),
  disconnect: $("disconnect"),
  status: $("status"),
  roomList: $("room-list"),
  joinForm: $("join-form"),
  joinRoom: $("join-room"),
  listRooms: $("list-rooms"),
  allRooms: $("all-rooms"),
  roomTitle: $("room-title"),
  memberCount: $("member-count"),
  showMembers: $("show-members"),
  leaveRoom: $("leave-room"),
  members: $("members"),
  error: $("error"),
  errorText: $("error-text"),
  dismissError: $("dismiss-error"),
  logs: $("logs"),
  loadOlder: $("load-older"),
  composer: $("composer"),
  message: $("message"),
  send: $("send"),
};

const roomPattern = /^[A-Za-z0-9_-]{1,64}$/;
const firstRetryMs = 500;
const maxRetryMs = 30_000;
const savedPrefs = "roomcast.prefs";
const savedSession = "roomcast.session";
// API Gateway closes a connection after 10 minutes without a data message in either direction
// (ping frames do not count, and browsers cannot send them): one frame after 9 quiet minutes.
const keepAliveMs = 9 * 60_000;
// A message API Gateway answered with its own error frame is resent this often, then marked not sent.
const maxGatewayRetries = 4;

const state = {
  socket: null,
  /** The session the user asked for: { url, name, room }; null when disconnected on purpose. */
  session: null,
  /** room name -> { log, seen, lastId, next, members, unread, joined } */
  rooms: new Map(),
  active: null,
  /** Messages not yet acknowledged, oldest first: { clientId, room, text, element }. */
  outbox: [],
  /** The outbox entry on the wire: one at a time, so an error frame maps to its message. */
  inFlight: null,
  retries: 0,
  retryTimer: undefined,
  keepAliveTimer: undefined,
  resendTimer: undefined,
};

// A debug hook for tests and the console: `roomcast.socket.close()` simulates a dropped connection.
window.roomcast = {
  get socket() {
    return state.socket;
  },
};

// ---- small DOM helpers ----

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function formatTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? ""
    : date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/**
 * This browser's chat session, issued by the server (the `session` action) and sent at
 * connect (`?session=`), kept across reconnects and reloads: the server scopes `clientId`
 * idempotency to it, so a resend after a reconnect is recognised as the same message.
 * One the server does not recognise is ignored there, and the `session` reply replaces it.
 */
function storedSession() {
  const id = localStorage.getItem(savedSession);
  return id && /^[A-Za-z0-9_-]{16,64}$/.test(id) ? id : null;
}

/** An idempotency key for one message; the server accepts [A-Za-z0-9_.:-]{1,64}. */
function newClientId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function setStatus(text) {
  ui.status.textContent = text;
}

function showError(text) {
  ui.errorText.textContent = text;
  ui.error.hidden = false;
}

// ---- connection ----

function socketUrl({ url, name, room }) {
  const target = new URL(url);
  if (name) target.searchParams.set("name", name);
  if (room) target.searchParams.set("room", room);
  const session = storedSession();
  if (session) target.searchParams.set("session", session);
  return target.href;
}

function send(frame) {
  if (state.socket?.readyState !== WebSocket.OPEN) {
    showError("Not connected right now; try again once the status says Connected");
    return;
  }
  state.socket.send(JSON.stringify(frame));
  keepAlive();
}

/** (Re)arms the keep-alive: called on every frame in either direction, so a busy connection never sends one. */
function keepAlive() {
  clearTimeout(state.keepAliveTimer);
  state.keepAliveTimer = setTimeout(() => {
    // Any data frame is a Lambda invocation on AWS; `listrooms` at least refreshes All rooms.
    if (state.socket?.readyState === WebSocket.OPEN) send({ action: "listrooms" });
  }, keepAliveMs);
}

function open() {
  const { session } = state;
  setStatus(`Connecting to ${session.url}…`);
  const socket = new WebSocket(socketUrl(session));
  state.socket = socket;

  socket.addEventListener("open", () => {
    state.retries = 0;
    setStatus(`Connected as ${session.name || "a guest"}`);
    setConnected(true);
    // The default room is joined at connect without a reply: joining it again fetches its history.
    // After a reconnect, every room the page was in is joined again too.
    for (const room of new Set([session.room || "lobby", ...state.rooms.keys()]))
      send({ action: "joinroom", room });
    send({ action: "listrooms" });
    send({ action: "session" });
  });
  socket.addEventListener("message", (event) => {
    if (state.socket !== socket) return; // a socket the user has already replaced
    keepAlive();
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    // API Gateway's own frames carry no type: {"message": "Internal server error", "connectionId", "requestId"}.
    if (frame?.type === undefined && typeof frame?.message === "string") gatewayError(frame);
    else handlers[frame?.type]?.(frame);
  });
  socket.addEventListener("close", () => {
    if (state.socket !== socket) return; // replaced or closed on purpose
    state.socket = null;
    state.inFlight = null; // resent after the reconnect, with the same clientId
    clearTimeout(state.keepAliveTimer);
    for (const room of state.rooms.values()) room.joined = false;
    setConnected(false);
    scheduleReconnect();
  });
}

function scheduleReconnect() {
  // Exponential backoff with jitter, so a restarted server is not hit by every page at once.
  const delay = Math.min(maxRetryMs, firstRetryMs * 2 ** state.retries) * (0.5 + Math.random() / 2);
  state.retries += 1;
  setStatus(`Disconnected; reconnecting in ${Math.ceil(delay / 1000)} s (attempt ${state.retries})`);
  state.retryTimer = setTimeout(open, delay);
}

function close() {
  clearTimeout(state.retryTimer);
  clearTimeout(state.keepAliveTimer);
  clearTimeout(state.resendTimer);
  const socket = state.socket;
  state.socket = null;
  socket?.close();
}

function setConnected(connected) {
  ui.disconnect.disabled = !state.session;
  ui.listRooms.disabled = !connected;
  ui.connect.textContent = state.session ? "Reconnect" : "Connect";
  updateRoomHeader();
}

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
  ui.roomList.replaceChildren();
  ui.allRooms.replaceChildren();
  renderRoomList();
  open();
}

function disconnect() {
  close();
  state.session = null;
  setConnected(false);
  setStatus("Disconnected");
}

// ---- rooms and their logs ----

function roomState(name) {
  let room = state.rooms.get(name);
  if (!room) {
    const log = el("ol", "log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-label", `Messages in ${name}`);
    log.hidden = true;
    ui.logs.append(log);
    room = { log, seen: new Set(), lastId: "", next: undefined, members: 0, unread: 0, joined: false };
    state.rooms.set(name, room);
  }
  return room;
}

function activate(name) {
  state.active = name;
  const room = state.rooms.get(name);
  for (const [other, { log }] of state.rooms) log.hidden = other !== name;
  if (room) room.unread = 0;
  ui.members.hidden = true;
  ui.showMembers.setAttribute("aria-expanded", "false");
  renderRoomList();
  updateRoomHeader();
  scrollToEnd();
}

function updateRoomHeader() {
  const room = state.rooms.get(state.active);
  const usable = Boolean(room?.joined);
  ui.roomTitle.textContent = state.active ? `#${state.active}` : "No room yet";
  ui.memberCount.textContent = room ? `${room.members} ${room.members === 1 ? "member" : "members"}` : "";
  ui.loadOlder.hidden = !room?.next;
  ui.loadOlder.disabled = !usable;
  ui.showMembers.disabled = !usable;
  ui.leaveRoom.disabled = !usable;
  // Typing stays possible while reconnecting: the outbox sends it once the room is joined again.
  ui.message.disabled = !room;
  ui.send.disabled = !room;
}

function renderRoomList() {
  const items = [...state.rooms].map(([name, room]) => {
    const button = el("button", "room-button", `#${name}`);
    button.type = "button";
    if (name === state.active) button.setAttribute("aria-current", "true");
    if (room.unread) {
      button.append(el("span", "badge", String(room.unread)));
      button.setAttribute("aria-label", `#${name}, ${room.unread} unread`);
    }
    button.addEventListener("click", () => activate(name));
    const item = el("li");
    item.append(button);
    return item;
  });
  ui.roomList.replaceChildren(...items);
}

function isNearEnd() {
  return ui.logs.scrollHeight - ui.logs.scrollTop - ui.logs.clientHeight < 80;
}

function scrollToEnd() {
  ui.logs.scrollTop = ui.logs.scrollHeight;
}

/** Appends to a room's log, following the newest line only if the reader was already there. */
function append(roomName, node) {
  const room = state.rooms.get(roomName);
  if (!room) return;
  const follow = roomName === state.active && isNearEnd();
  room.log.append(node);
  if (follow) scrollToEnd();
}

/**
 * Puts a message where its id sorts (ids are ULIDs: they sort by time). Delivery is at
 * least once and not always in page order: a push can be older than the newest shown (a
 * retried fan-out, a message stored just before a join), and history arrives later still.
 */
function place(room, roomName, item) {
  const later = [...room.log.querySelectorAll(".message[data-id]")].find(
    (m) => m.dataset.id > item.dataset.id,
  );
  if (later) later.before(item);
  else append(roomName, item);
}

function messageItem({ id, from, text, sentAt }, own = false) {
  const item = el("li", own ? "message own" : "message");
  if (id) item.dataset.id = id;
  const meta = el("div", "meta");
  meta.append(el("span", "from", from));
  const time = el("time", "time", formatTime(sentAt));
  time.dateTime = sentAt;
  meta.append(time);
  item.append(meta, el("p", "text", text));
  return item;
}

/** Records a message id; false when it is already on the page (history after a rejoin repeats some). */
function remember(room, id) {
  if (room.seen.has(id)) return false;
  room.seen.add(id);
  if (id > room.lastId) room.lastId = id; // ids are ULIDs: they sort by time
  return true;
}

// ---- server frames ----

const handlers = {
  session({ session }) {
    localStorage.setItem(savedSession, session);
  },
  joined({ room: name, members, history, next }) {
    const firstJoin = !state.rooms.has(name);
    const room = roomState(name);
    room.joined = true;
    room.members = members;
    if (firstJoin) room.next = next;
    // On a rejoin, only what arrived while the page was away is new.
    const lastId = room.lastId;
    for (const message of history) {
      if (message.id > lastId && remember(room, message.id)) append(name, messageItem(message));
    }
    if (!state.active || firstJoin) activate(name);
    else renderRoomList();
    updateRoomHeader();
    sendNext();
  },

  left({ room: name }) {
    const room = state.rooms.get(name);
    if (!room) return;
    room.log.remove();
    state.rooms.delete(name);
    state.outbox = state.outbox.filter((m) => m.room !== name || m === state.inFlight);
    if (state.active === name) activate(state.rooms.keys().next().value ?? null);
    else renderRoomList();
  },

  message(message) {
    const room = state.rooms.get(message.room);
    if (!room) return;
    if (!remember(room, message.id)) return;
    place(room, message.room, messageItem(message));
    if (message.room !== state.active) {
      room.unread += 1;
      renderRoomList();
    }
  },

  presence({ room: name, event, name: who }) {
    const room = state.rooms.get(name);
    if (!room) return;
    room.members = Math.max(0, room.members + (event === "join" ? 1 : -1));
    append(name, el("li", "presence", `${who} ${event === "join" ? "joined" : "left"}`));
    if (name === state.active) updateRoomHeader();
  },

  ack({ clientId, id, sentAt }) {
    const pending = state.inFlight;
    if (!pending || pending.clientId !== clientId) return;
    const room = state.rooms.get(pending.room);
    if (room) remember(room, id);
    pending.element.dataset.id = id;
    pending.element.classList.remove("pending", "resending");
    const time = pending.element.querySelector("time");
    time.dateTime = sentAt;
    time.textContent = formatTime(sentAt);
    state.outbox.shift();
    state.inFlight = null;
    sendNext();
  },

  history({ room: name, messages, next }) {
    const room = state.rooms.get(name);
    if (!room) return;
    room.next = next;
    const older = messages.filter((m) => remember(room, m.id)).map((m) => messageItem(m));
    // Keep the reader's place: the log grows above what they are looking at.
    const fromEnd = ui.logs.scrollHeight - ui.logs.scrollTop;
    for (const item of older) place(room, name, item);
    if (name === state.active) ui.logs.scrollTop = ui.logs.scrollHeight - fromEnd;
    updateRoomHeader();
  },

  members({ room, members }) {
    if (room !== state.active) return;
    ui.members.replaceChildren(...members.map(({ name }) => el("li", "", name)));
    ui.members.hidden = false;
    ui.showMembers.setAttribute("aria-expanded", "true");
  },

  rooms({ rooms, next }) {
    // A page that continues a listing (`after` = the previous `next`) adds to it; a new listing replaces it.
    const continuing = state.roomsAfter !== undefined;
    state.roomsAfter = undefined;
    const items = rooms.map(({ room, members }) => {
      const button = el("button", "room-button", `#${room}`);
      button.type = "button";
      button.append(el("span", "muted", ` ${members}`));
      button.setAttribute("aria-label", `Join #${room} (${members} ${members === 1 ? "member" : "members"})`);
      button.addEventListener("click", () => join(room));
      const item = el("li");
      item.append(button);
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

  error({ code, message, action }) {
    showError(`${code}: ${message}`);
    if (action === "sendmessage" && state.inFlight) {
      const failed = state.inFlight;
      state.outbox.shift();
      state.inFlight = null;
      markFailed(failed, code);
      sendNext();
    }
  },
};

/**
 * A frame API Gateway sent instead of a route's reply (integration error or timeout,
 * throttling, Forbidden). It names no action, so the message in flight may be the one
 * it answers: that message is marked and resent with its clientId (stored at most
 * once), with backoff; after a few tries it is marked not sent and the outbox moves on.
 */
function gatewayError({ message }) {
  showError(`Server: ${message}`);
  const pending = state.inFlight;
  if (!pending) return;
  state.inFlight = null;
  pending.gatewayRetries = (pending.gatewayRetries ?? 0) + 1;
  if (pending.gatewayRetries > maxGatewayRetries) {
    state.outbox.shift();
    markFailed(pending, message);
    sendNext();
    return;
  }
  pending.element.classList.add("resending");
  clearTimeout(state.resendTimer);
  state.resendTimer = setTimeout(sendNext, firstRetryMs * 2 ** (pending.gatewayRetries - 1));
}

// ---- sending messages ----

/** Sends the oldest unacknowledged message once its room is joined on the current connection. */
function sendNext() {
  const next = state.outbox[0];
  const ready = state.socket?.readyState === WebSocket.OPEN && state.rooms.get(next?.room)?.joined;
  if (state.inFlight || !next || !ready) return;
  state.inFlight = next;
  send({ action: "sendmessage", room: next.room, message: next.text, clientId: next.clientId });
}

function markFailed(pending, code) {
  const { element } = pending;
  element.classList.remove("resending");
  element.classList.replace("pending", "failed");
  const retry = el("button", "retry", "Retry");
  retry.type = "button";
  retry.setAttribute("aria-label", `Not sent (${code}). Retry`);
  retry.addEventListener("click", () => {
    retry.remove();
    element.classList.replace("failed", "pending");
    pending.gatewayRetries = 0;
    // Same clientId: if the first attempt was stored after all, the server will not store it twice.
    state.outbox.push(pending);
    sendNext();
  });
  element.querySelector(".meta").append(retry);
}

function sendMessage(text) {
  const room = state.active;
  const element = messageItem(
    { from: state.session?.name || "you", text, sentAt: new Date().toISOString() },
    true,
  );
  element.classList.add("pending");
  append(room, element);
  scrollToEnd();
  state.outbox.push({ clientId: newClientId(), room, text, element });
  sendNext();
}

function join(room) {
  if (state.rooms.get(room)?.joined) activate(room);
  else send({ action: "joinroom", room });
}

// ---- the forms ----

function loadPrefs() {
  try {
    return JSON.parse(localStorage.getItem(savedPrefs)) ?? {};
  } catch {
    return {};
  }
}

async function defaultUrl() {
  try {
    const response = await fetch("config.json");
    if (response.ok) return (await response.json()).wsUrl;
  } catch {
    // Not served by the local stack: fall back to this page's own host.
  }
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host || "localhost:3001"}`;
}

function isSocketUrl(text) {
  try {
    return /^wss?:$/.test(new URL(text).protocol);
  } catch {
    return false;
  }
}

ui.connectForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const session = { url: ui.url.value.trim(), name: ui.name.value.trim(), room: ui.defaultRoom.value.trim() };
  if (!isSocketUrl(session.url)) {
    showError("Server: use a ws:// or wss:// URL");
    return;
  }
  localStorage.setItem(savedPrefs, JSON.stringify({ name: session.name, room: session.room }));
  ui.error.hidden = true;
  connect(session);
});

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

ui.listRooms.addEventListener("click", () => send({ action: "listrooms" }));
ui.showMembers.addEventListener("click", () => {
  if (!ui.members.hidden) {
    ui.members.hidden = true;
    ui.showMembers.setAttribute("aria-expanded", "false");
  } else send({ action: "members", room: state.active });
});
ui.leaveRoom.addEventListener("click", () => send({ action: "leaveroom", room: state.active }));
ui.loadOlder.addEventListener("click", () => {
  const room = state.rooms.get(state.active);
  if (room?.next) send({ action: "history", room: state.active, before: room.next });
});
ui.dismissError.addEventListener("click", () => (ui.error.hidden = true));

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

const prefs = loadPrefs();
ui.name.value = prefs.name ?? "";
ui.defaultRoom.value = prefs.room ?? "";
ui.url.value = await defaultUrl();
