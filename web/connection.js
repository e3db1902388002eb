// The WebSocket: connecting (with ?name=, ?room=, ?session=, ?token=), keep-alive,
// reconnecting with backoff, and API Gateway's 2-hour cap.

import { setStatus, showError } from "./dom.js";
import { state } from "./state.js";
import { storedSession } from "./storage.js";

export const firstRetryMs = 500;
const maxRetryMs = 30_000;
// API Gateway closes every connection after 2 hours: reconnect on our own a little before,
// at a jittered moment so a crowd that connected together does not reconnect together.
const plannedReconnectMs = [105 * 60_000, 115 * 60_000];
// API Gateway closes a connection after 10 minutes without a data message in either direction
// (ping frames do not count, and browsers cannot send them): one frame after 9 quiet minutes.
const keepAliveMs = 9 * 60_000;

/** What the rest of the page does on the socket's events: set once by app.js. */
const hooks = {
  opened: () => {},
  frame: () => {},
  closed: () => {},
  connected: () => {},
};
export const onConnection = (given) => Object.assign(hooks, given);

function socketUrl({ url, name, room, token }) {
  const target = new URL(url);
  if (name) target.searchParams.set("name", name);
  if (room) target.searchParams.set("room", room);
  if (token) target.searchParams.set("token", token);
  const session = storedSession();
  if (session) target.searchParams.set("session", session);
  return target.href;
}

export const isOpen = () => state.socket?.readyState === WebSocket.OPEN;

export function send(frame) {
  if (!isOpen()) {
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
    if (isOpen()) send({ action: "listrooms" });
  }, keepAliveMs);
}

export function open() {
  const { session } = state;
  setStatus(`Connecting to ${session.url}…`);
  const socket = new WebSocket(socketUrl(session));
  state.socket = socket;
  let opened = false;

  socket.addEventListener("open", () => {
    opened = true;
    state.retries = 0;
    setStatus(`Connected as ${session.name || (session.token ? "the token's user" : "a guest")}`);
    hooks.connected(true);
    hooks.opened();
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
    hooks.frame(frame);
  });
  socket.addEventListener("close", () => {
    if (state.socket !== socket) return; // replaced or closed on purpose
    state.socket = null;
    clearTimeout(state.keepAliveTimer);
    clearTimeout(state.plannedTimer);
    hooks.closed();
    hooks.connected(false);
    // A browser sees no status for a refused handshake. With a token, a refusal is most
    // likely the token's (401/403): retrying the same one would fail forever.
    if (!opened && session.token) refused();
    else scheduleReconnect();
  });
}

function refused() {
  setStatus("Not connected");
  showError(
    "Cannot connect: the server refused the handshake. The token is probably expired, not valid " +
      "or for another server (or the server is down). Paste a new token and press Connect.",
  );
}

/** Before API Gateway's 2-hour cap: a new connection now, resuming every room. */
function reconnectNow() {
  const socket = state.socket;
  state.socket = null;
  socket?.close();
  hooks.closed();
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

/** Ends the connection and every timer; nothing reconnects. */
export function close() {
  clearTimeout(state.retryTimer);
  clearTimeout(state.keepAliveTimer);
  clearTimeout(state.plannedTimer);
  clearTimeout(state.resendTimer);
  clearTimeout(state.resumeTimer);
  const socket = state.socket;
  state.socket = null;
  socket?.close();
}
