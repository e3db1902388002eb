// Sending messages: one at a time (so an error frame maps to its message), each with a
// clientId the server stores at most once, resent after reconnects and gateway errors.

import { button, showError } from "./dom.js";
import { firstRetryMs, isOpen, send } from "./connection.js";
import { identify, messageItem } from "./messages.js";
import { append, persistRooms, place, remember, scrollToEnd } from "./rooms.js";
import { state } from "./state.js";
import { rememberOwnId } from "./storage.js";

// A message API Gateway answered with its own error frame is resent this often, then marked not sent.
const maxGatewayRetries = 4;

/** An idempotency key for one message; the server accepts [A-Za-z0-9_.:-]{1,64}. */
function newClientId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Sends the oldest unacknowledged message once its room is joined on the current connection. */
export function sendNext() {
  const next = state.outbox[0];
  const ready = isOpen() && state.rooms.get(next?.room)?.joined;
  if (state.inFlight || !next || !ready) return;
  state.inFlight = next;
  send({ action: "sendmessage", room: next.room, message: next.text, clientId: next.clientId });
}

export function sendMessage(text) {
  const room = state.active;
  const element = messageItem(
    {
      room,
      from: state.session?.name || "you",
      // As the server will mark it: a guest's unless a token names the sender.
      guest: !state.session?.token,
      text,
      sentAt: new Date().toISOString(),
    },
    true,
  );
  element.classList.add("pending");
  append(room, element);
  scrollToEnd();
  state.outbox.push({ clientId: newClientId(), room, text, element });
  sendNext();
}

/** The `ack` of the message in flight: it gets its id, seq and time, and moves to where its seq sorts. */
export function acknowledged({ clientId, id, seq, sentAt }) {
  const pending = state.inFlight;
  if (!pending || pending.clientId !== clientId) return;
  const room = state.rooms.get(pending.room);
  rememberOwnId(id);
  pending.element.dataset.seq = String(seq);
  pending.element.classList.remove("pending", "resending");
  identify(pending.element, id, sentAt);
  // Shown once: a repeat of it (its own history) is dropped.
  if (room && remember(room, pending.room, seq)) place(room, pending.room, pending.element);
  else pending.element.remove();
  state.outbox.shift();
  state.inFlight = null;
  sendNext();
}

/** The server refused the message in flight: marked not sent, with Retry; the next one goes. */
export function refusedInFlight(code) {
  const failed = state.inFlight;
  if (!failed) return;
  state.outbox.shift();
  state.inFlight = null;
  markFailed(failed, code);
  sendNext();
}

/** Drops what was not yet sent to a room the page is no longer in. */
export function dropOutbox(room) {
  state.outbox = state.outbox.filter((m) => m.room !== room || m === state.inFlight);
  persistRooms();
}

/**
 * A frame API Gateway sent instead of a route's reply (integration error or timeout,
 * throttling, Forbidden). It names no action, so the message in flight may be the one
 * it answers: that message is marked and resent with its clientId (stored at most
 * once), with backoff; after a few tries it is marked not sent and the outbox moves on.
 */
export function gatewayError({ message }) {
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

function markFailed(pending, code) {
  const { element } = pending;
  element.classList.remove("resending");
  element.classList.replace("pending", "failed");
  const retry = button(
    "Retry",
    () => {
      retry.remove();
      element.classList.replace("failed", "pending");
      pending.gatewayRetries = 0;
      // Same clientId: if the first attempt was stored after all, the server will not store it twice.
      state.outbox.push(pending);
      sendNext();
    },
    "retry",
  );
  retry.setAttribute("aria-label", `Not sent (${code}). Retry`);
  element.querySelector(".meta").append(retry);
}
