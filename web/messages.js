// A message's list item: its text, edit and delete for its author (and delete for an owner
// or moderator), edits and tombstones applied live; day separators and sender groups.

import { button, dayLabel, dayOf, el, formatTime } from "./dom.js";
import { send } from "./connection.js";
import { moderates, state } from "./state.js";
import { isOwnId } from "./storage.js";

// Consecutive messages of one sender closer than this share one name line.
const groupWithinMs = 5 * 60_000;

export function messageItem({ room, seq, id, from, guest, text, sentAt, editedAt, deleted }, own = false) {
  const item = el("li", own ? "message own" : "message");
  item.dataset.room = room;
  if (seq !== undefined) item.dataset.seq = String(seq);
  item.dataset.from = `${guest ? "guest:" : ""}${from}`;
  item.dataset.sentAt = sentAt;
  const meta = el("div", "meta");
  meta.append(el("span", "from", from));
  const time = el("time", "time", formatTime(sentAt));
  time.dateTime = sentAt;
  meta.append(time);
  item.append(meta, el("p", "text", text ?? ""));
  if (id) identify(item, id);
  if (deleted) showDeleted(item);
  else if (editedAt) showEdited(item, editedAt);
  return item;
}

/** Gives a stored message its id, and the actions its viewer may take on it. */
export function identify(item, id, sentAt) {
  item.dataset.id = id;
  if (sentAt) {
    item.dataset.sentAt = sentAt;
    const time = item.querySelector("time");
    time.dateTime = sentAt;
    time.textContent = formatTime(sentAt);
  }
  if (isOwnId(id)) item.classList.add("own");
  renderActions(item);
}

/** Edit and Delete: the author may do both, an owner or moderator of the room may delete. */
export function renderActions(item) {
  item.querySelector(".actions")?.remove();
  const { room } = item.dataset;
  const own = isOwnId(item.dataset.id);
  if (
    !item.dataset.id ||
    item.classList.contains("deleted") ||
    !room ||
    !(own || moderates(state.rooms.get(room)))
  )
    return;
  const actions = el("span", "actions");
  const text = () => item.querySelector(".text").textContent;
  if (own) actions.append(button("Edit", () => startEdit(item, room, text()), "small"));
  actions.append(
    button("Delete", () => send({ action: "deletemessage", room, id: item.dataset.id }), "small danger"),
  );
  for (const action of actions.children)
    action.setAttribute("aria-label", `${action.textContent}: ${text()}`);
  item.querySelector(".meta").append(actions);
}

function startEdit(item, room, current) {
  if (item.querySelector(".edit-form")) return;
  const form = el("form", "edit-form");
  const field = el("textarea");
  field.value = current;
  field.rows = 2;
  field.setAttribute("aria-label", "Edit message");
  const save = el("button", "", "Save");
  save.type = "submit";
  form.append(
    field,
    save,
    button("Cancel", () => form.remove()),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (field.value.trim() && field.value !== current)
      send({ action: "editmessage", room, id: item.dataset.id, message: field.value });
    form.remove();
  });
  item.append(form);
  field.focus();
}

function showEdited(item, editedAt) {
  let mark = item.querySelector(".edited");
  if (!mark) {
    mark = el("span", "edited", "(edited)");
    item.querySelector(".time").after(mark);
  }
  mark.title = `Edited ${new Date(editedAt).toLocaleString()}`;
}

function showDeleted(item) {
  item.classList.add("deleted");
  item.querySelector(".text").textContent = "This message was deleted";
  item.querySelector(".edited")?.remove();
  item.querySelector(".edit-form")?.remove();
  item.querySelector(".actions")?.remove();
}

/** Applies an `edited` or `deleted` event to the copy on the page, if there is one (an edit of a deleted message is ignored). */
export function applyChange(log, { type, id, text, editedAt }) {
  const item = [...log.querySelectorAll(".message[data-id]")].find((m) => m.dataset.id === id);
  if (!item || item.classList.contains("deleted")) return;
  if (type === "deleted") showDeleted(item);
  else {
    item.querySelector(".text").textContent = text;
    showEdited(item, editedAt);
    renderActions(item);
  }
}

/**
 * Day separators before each day's first message, and `continued` on a message that
 * follows one of the same sender within a few minutes on the same day (its name line is
 * not repeated). Checked over the whole log, as messages are placed by seq, anywhere; a
 * separator already right is left alone (the log is a live region).
 */
export function decorate(log) {
  let day = "";
  let previous = null;
  for (const item of [...log.children]) {
    if (item.classList.contains("day")) {
      // One whose message moved on (a pending message placed by its seq) goes.
      if (!item.nextElementSibling?.classList.contains("message")) item.remove();
      continue;
    }
    if (!item.classList.contains("message")) {
      previous = null; // a presence line ends a group
      continue;
    }
    const itemDay = dayOf(item.dataset.sentAt);
    const newDay = itemDay !== "" && itemDay !== day;
    const before = item.previousElementSibling;
    const separator = before?.classList.contains("day") ? before : null;
    if (newDay) day = itemDay;
    if (separator && separator.dataset.day !== (newDay ? itemDay : undefined)) separator.remove();
    if (newDay && separator?.dataset.day !== itemDay) item.before(daySeparator(item.dataset.sentAt, itemDay));
    const at = Date.parse(item.dataset.sentAt);
    const continued = !newDay && previous?.from === item.dataset.from && at - previous.at < groupWithinMs;
    item.classList.toggle("continued", continued);
    previous = { from: item.dataset.from, at };
  }
}

function daySeparator(sentAt, day) {
  const separator = el("li", "day");
  separator.dataset.day = day;
  separator.setAttribute("role", "separator");
  separator.setAttribute("aria-label", dayLabel(sentAt));
  separator.append(el("span", "", dayLabel(sentAt)));
  return separator;
}
