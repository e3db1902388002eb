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
// While connected: the server, name, default room and each room's last seq, so a reload resumes.
const savedRooms = "roomcast.rooms";
// API Gateway closes every connection after 2 hours: reconnect on our own a little before,
// at a jittered moment so a crowd that connected together does not reconnect together.
const plannedReconnectMs = [105 * 60_000, 115 * 60_000];
// API Gateway closes a connection after 10 minutes without a data message in either direction
// (ping frames do not count, and browsers cannot send them): one frame after 9 quiet minutes.
const keepAliveMs = 9 * 60_000;
// A message API Gateway answered with its own error frame is resent this often, then marked not sent.
const maxGatewayRetries = 4;

const state = {
  socket: null,
  /** The session the user asked for: { url, name, room }; null when disconnected on purpose. */
  session: null,
  /**
   * room name -> { log, seen (seqs shown), lastSeq (every seq up to it is shown), maxSeq, next
   * (a `before` for older history), members, unread, joined, filling (the `after` of a history … after
   * in flight, else null) }
   */
  rooms: new Map(),
  active: null,
  /** Messages not yet acknowledged, oldest first: { clientId, room, text, element }. */
  outbox: [],
  /** The outbox entry on the wire: one at a time, so an error frame maps to its message. */
  inFlight: null,
  retries: 0,
  retryTimer: undefined,
  keepAliveTimer: undefined,
  plannedTimer: undefined,
  resendTimer: undefined,
  resumeTimer: undefined,
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
    // After a reconnect or a reload, every room the page was in resumes from its last seq.
    if (state.rooms.size === 0) send({ action: "joinroom", room: session.room || "lobby" });
    else {
      const rooms = [...state.rooms].map(([room, { lastSeq }]) => ({ room, after: lastSeq }));
      send({ action: "resume", rooms });
    }
    send({ action: "listrooms" });
    send({ action: "session" });
    const [earliest, latest] = plannedReconnectMs;
    clearTimeout(state.plannedTimer);
    state.plannedTimer = setTimeout(reconnectNow, earliest + Math.random() * (latest - earliest));
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
    clearTimeout(state.plannedTimer);
    for (const room of state.rooms.values()) {
      room.joined = false;
      room.filling = null;
    }
    setConnected(false);
    scheduleReconnect();
  });
}

/** Before API Gateway's 2-hour cap: a new connection now, resuming every room. */
function reconnectNow() {
  const socket = state.socket;
  state.socket = null;
  socket?.close();
  for (const room of state.rooms.values()) {
    room.joined = false;
    room.filling = null;
  }
  state.inFlight = null;
  setStatus("Reconnecting (connections last at most 2 hours)…");
  open();
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
  clearTimeout(state.plannedTimer);
  clearTimeout(state.resendTimer);
  clearTimeout(state.resumeTimer);
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
  saveRooms();
  ui.roomList.replaceChildren();
  ui.allRooms.replaceChildren();
  renderRoomList();
  open();
}

function disconnect() {
  close();
  state.session = null;
  localStorage.removeItem(savedRooms);
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
    };
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
 * Puts a message where its seq sorts, above messages still being sent. Delivery is at
 * least once and not in order: a push can be older than the newest shown, and a gap's
 * history arrives later still.
 */
function place(room, roomName, item) {
  const seq = Number(item.dataset.seq);
  const later = [...room.log.querySelectorAll(".message[data-seq], .message.pending, .message.failed")].find(
    (m) => m.dataset.seq === undefined || Number(m.dataset.seq) > seq,
  );
  if (later) later.before(item);
  else append(roomName, item);
}

function messageItem({ seq, id, from, text, sentAt }, own = false) {
  const item = el("li", own ? "message own" : "message");
  if (seq !== undefined) item.dataset.seq = String(seq);
  if (id) item.dataset.id = id;
  const meta = el("div", "meta");
  meta.append(el("span", "from", from));
  const time = el("time", "time", formatTime(sentAt));
  time.dateTime = sentAt;
  meta.append(time);
  item.append(meta, el("p", "text", text));
  return item;
}

/**
 * Records a message's seq; false when it is already on the page (a repeat). Moves
 * `lastSeq` over every seq now shown without a gap, and asks for a gap it sees.
 */
function remember(room, roomName, seq) {
  if (room.seen.has(seq) || seq <= room.lastSeq) return false;
  room.seen.add(seq);
  room.maxSeq = Math.max(room.maxSeq, seq);
  while (room.seen.has(room.lastSeq + 1)) room.lastSeq += 1;
  if (room.maxSeq > room.lastSeq) fillGap(room, roomName);
  saveRooms();
  return true;
}

/** Fetches what came after `lastSeq`, one request at a time per room. */
function fillGap(room, roomName, after = room.lastSeq) {
  if (room.filling !== null || !room.joined) return;
  room.filling = after;
  send({ action: "history", room: roomName, after });
}

/** Shows a room's messages (history, resumed, joined), each once, in seq order. */
function showMessages(room, roomName, messages) {
  for (const message of messages) {
    if (remember(room, roomName, message.seq)) place(room, roomName, messageItem(message));
  }
}

/** What a reload needs: the session and each room's last seq. */
function saveRooms() {
  if (!state.session) return;
  const rooms = [...state.rooms].map(([room, { lastSeq }]) => ({ room, after: lastSeq }));
  localStorage.setItem(savedRooms, JSON.stringify({ session: state.session, rooms }));
}

// ---- server frames ----

const handlers = {
  session({ session }) {
    localStorage.setItem(savedSession, session);
  },
  joined({ room: name, members, history, next, seq }) {
    const firstJoin = !state.rooms.has(name);
    const room = roomState(name);
    room.joined = true;
    room.members = members;
    if (firstJoin) {
      room.next = next;
      // Everything before the page shown is older history, not a gap.
      room.lastSeq = history.length ? history[0].seq - 1 : seq;
      room.maxSeq = room.lastSeq;
    }
    showMessages(room, name, history);
    saveRooms();
    if (!state.active || firstJoin) activate(name);
    else renderRoomList();
    updateRoomHeader();
    sendNext();
  },

  resumed({ rooms, failed }) {
    for (const { room: name, members, history, next, seq } of rooms) {
      const room = roomState(name);
      room.members = members;
      // Shown before the room counts as joined, so the reply's own history opens no fill of its own.
      showMessages(room, name, history);
      room.joined = true;
      // A backlog that did not fit goes on with history … after; so does a gap (pushes seen
      // before this reply, from a newer seq than it carried).
      if (next !== null) fillGap(room, name, Math.max(next, room.lastSeq));
      else if (Math.max(seq, room.maxSeq) > room.lastSeq) fillGap(room, name);
    }
    for (const { room, code, message } of failed) showError(`${code}: #${room}: ${message}`);
    if (!state.active) activate(state.rooms.keys().next().value ?? null);
    renderRoomList();
    updateRoomHeader();
    sendNext();
  },

  left({ room: name }) {
    const room = state.rooms.get(name);
    if (!room) return;
    room.log.remove();
    state.rooms.delete(name);
    state.outbox = state.outbox.filter((m) => m.room !== name || m === state.inFlight);
    saveRooms();
    if (state.active === name) activate(state.rooms.keys().next().value ?? null);
    else renderRoomList();
  },

  message(message) {
    const room = state.rooms.get(message.room);
    if (!room) return;
    if (!remember(room, message.room, message.seq)) return;
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

  ack({ clientId, id, seq, sentAt }) {
    const pending = state.inFlight;
    if (!pending || pending.clientId !== clientId) return;
    const room = state.rooms.get(pending.room);
    pending.element.dataset.id = id;
    pending.element.dataset.seq = String(seq);
    pending.element.classList.remove("pending", "resending");
    // Shown once: a repeat of it (its own history) is dropped; it moves to where its seq sorts.
    if (room && remember(room, pending.room, seq)) place(room, pending.room, pending.element);
    else pending.element.remove();
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
    // A gap's fill (history … after) is told from an older page by the `after` it asked for:
    // its messages all come after it, an older page's all before what is shown. (Not by
    // `lastSeq`: pushes and the resumed reply may have filled the gap while it was in flight.)
    if (room.filling !== null && (messages.length === 0 || messages[0].seq > room.filling)) {
      room.filling = null;
      showMessages(room, name, messages);
      // `next` goes on after this page; a gap still open (seen meanwhile) is asked for again.
      if (next !== null) fillGap(room, name, Math.max(next, room.lastSeq));
      else if (room.maxSeq > room.lastSeq) fillGap(room, name);
      return;
    }
    room.next = next;
    const older = messages.filter((m) => !room.seen.has(m.seq)).map((m) => messageItem(m));
    for (const m of messages) room.seen.add(m.seq);
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

  error({ code, message, action, retryAfterMs }) {
    showError(`${code}: ${message}`);
    // A refused resume or gap fill would leave rooms unjoined or gaps open: asked again shortly.
    if ((action === "resume" || action === "history") && !["INVALID", "NOT_A_MEMBER"].includes(code))
      retryLater(retryAfterMs);
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
      if (state.socket !== socket || socket?.readyState !== WebSocket.OPEN) return; // a new connection resumes anew
      const rooms = [...state.rooms]
        .filter(([, room]) => !room.joined)
        .map(([room, { lastSeq }]) => ({ room, after: lastSeq }));
      if (rooms.length) send({ action: "resume", rooms });
      for (const [name, room] of state.rooms) if (room.maxSeq > room.lastSeq) fillGap(room, name);
    },
    Number.isSafeInteger(retryAfterMs) && retryAfterMs > 0 ? retryAfterMs : firstRetryMs * 2,
  );
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

/** After a reload: the session and rooms the page had, resumed from each room's last seq. */
function restore() {
  let saved;
  try {
    saved = JSON.parse(localStorage.getItem(savedRooms));
  } catch {
    return;
  }
  if (!saved?.session || !isSocketUrl(saved.session.url) || !Array.isArray(saved.rooms)) return;
  state.session = saved.session;
  ui.url.value = saved.session.url;
  for (const { room: name, after } of saved.rooms) {
    if (!roomPattern.test(name) || !Number.isSafeInteger(after) || after < 0) continue;
    const room = roomState(name);
    room.lastSeq = after;
    room.maxSeq = after;
    // "Load older" shows what came before the reload.
    room.next = after > 0 ? after + 1 : null;
  }
  renderRoomList();
  open();
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
restore();
