// The page's elements and small DOM helpers. User data is only ever written with
// textContent, never as HTML.

const $ = (id) => document.getElementById(id);

export const ui = {
  connectForm: $("connect-form"),
  url: $("ws-url"),
  name: $("name"),
  token: $("token"),
  defaultRoom: $("default-room"),
  connect: $("connect"),
  disconnect: $("disconnect"),
  status: $("status"),
  sidebar: $("sidebar"),
  toggleSidebar: $("toggle-sidebar"),
  closeSidebar: $("close-sidebar"),
  roomList: $("room-list"),
  joinForm: $("join-form"),
  joinRoom: $("join-room"),
  createForm: $("create-form"),
  createRoom: $("create-room"),
  createPrivate: $("create-private"),
  listRooms: $("list-rooms"),
  allRooms: $("all-rooms"),
  roomTitle: $("room-title"),
  memberCount: $("member-count"),
  invite: $("invite"),
  inviteBox: $("invite-box"),
  inviteLink: $("invite-link"),
  copyInvite: $("copy-invite"),
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

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function button(text, onClick, className = "") {
  const node = el("button", className, text);
  node.type = "button";
  node.addEventListener("click", onClick);
  return node;
}

const validDate = (iso) => {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
};

export function formatTime(iso) {
  return validDate(iso)?.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) ?? "";
}

/** The local calendar day of a timestamp, as a key that sorts ("2026-12-03"); "" when not a date. */
export function dayOf(iso) {
  const date = validDate(iso);
  if (!date) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** "Today", "Yesterday" or the date, for a day separator. */
export function dayLabel(iso) {
  const now = new Date();
  if (dayOf(iso) === dayOf(now.toISOString())) return "Today";
  if (dayOf(iso) === dayOf(new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1).toISOString()))
    return "Yesterday";
  return validDate(iso).toLocaleDateString([], {
    weekday: "long",
    year: "numeric",
    month: "long",
    day: "numeric",
  });
}

export function setStatus(text) {
  ui.status.textContent = text;
}

export function showError(text) {
  ui.errorText.textContent = text;
  ui.error.hidden = false;
}
