// Private rooms and moderation: creating a room, invitation links, and the member list
// with kick, ban and promote for owners and moderators.

import { button, el, showError, ui } from "./dom.js";
import { send } from "./connection.js";
import { renderActions } from "./messages.js";
import { append, persistRooms, updateRoomHeader } from "./rooms.js";
import { moderates, state } from "./state.js";
import { roomPattern } from "./storage.js";

const invitePattern = /^#invite=([A-Za-z0-9_-]{1,64}):([A-Za-z0-9_-]{16,64})$/;

/** The invitation an address carries (`#invite=room:code`), or null. */
export function inviteFromHash(hash) {
  const match = invitePattern.exec(hash);
  return match ? { room: match[1], code: match[2] } : null;
}

export function createRoom(room, isPrivate) {
  if (!roomPattern.test(room)) {
    showError("Room: 1 to 64 characters of A-Z, a-z, 0-9, _ or -");
    return false;
  }
  send({ action: "createroom", room, private: isPrivate });
  return true;
}

/** A note in a room's log: what a moderation action did. */
export function note(room, text) {
  append(room, el("li", "presence", text));
}

export function showInvite({ room, code, expiresAt }) {
  if (room !== state.active || !code) return;
  const link = new URL(location.href);
  link.search = "";
  link.hash = `invite=${room}:${code}`;
  ui.inviteLink.value = link.href;
  ui.inviteBox.querySelector(".expires").textContent =
    `Anyone with this link can join #${room} until ${new Date(expiresAt).toLocaleString()}.`;
  ui.inviteBox.hidden = false;
  ui.inviteLink.select();
}

export async function copyInvite() {
  ui.inviteLink.select();
  try {
    await navigator.clipboard.writeText(ui.inviteLink.value);
    ui.copyInvite.textContent = "Copied";
  } catch {
    ui.copyInvite.textContent = "Select and copy";
  }
}

/**
 * The role the page holds in a room (from `createroom`, `rolechanged` or `members`): what its
 * header and messages offer follows it.
 */
function holdRole(name, role) {
  const room = state.rooms.get(name);
  if (room.role === role) return;
  room.role = role;
  persistRooms();
  updateRoomHeader();
  for (const item of room.log.querySelectorAll(".message[data-id]")) renderActions(item);
}

/** The member list; an owner or moderator gets a row of actions beside each name. */
export function showMembers({ room: name, members, role }) {
  if (state.rooms.has(name)) holdRole(name, role);
  if (name !== state.active) return;
  const room = state.rooms.get(name);
  const myName = state.session?.name;
  // With auth on, kick, ban and setrole name a token subject, which `members` does not give:
  // the list offers no actions there (the server would look for a user with the name as subject).
  const canAct = moderates(room) && !state.session?.token;
  ui.members.replaceChildren(
    ...members.map(({ name: member }) => {
      const item = el("li");
      item.append(el("span", "member-name", member));
      if (canAct && member !== myName) item.append(memberActions(name, room, member));
      return item;
    }),
  );
  ui.members.hidden = false;
  ui.showMembers.setAttribute("aria-expanded", "true");
}

/**
 * Kick and Ban (owner or moderator) and, for the owner, Make moderator or Make member.
 * `user` is the display name: with auth off, the server acts on the one member of the
 * room who has it (see the README's moderation section).
 */
function memberActions(room, held, member) {
  const actions = el("span", "member-actions");
  const act = (label, frame) => {
    const action = button(label, () => send({ room, user: member, ...frame }), "small");
    action.setAttribute("aria-label", `${label} ${member}`);
    actions.append(action);
  };
  if (held.role === "owner") {
    const isModerator = held.moderators?.has(member);
    act(isModerator ? "Make member" : "Make moderator", {
      action: "setrole",
      role: isModerator ? "member" : "moderator",
    });
  }
  act("Kick", { action: "kick" });
  act("Ban", { action: "ban" });
  return actions;
}

/** Replies to moderation: what it did, in the room's log; a member list shown is asked for again. */
export const moderationFrames = {
  created({ room, private: isPrivate }) {
    state.pendingRoles.set(room, "owner");
    note(state.active, `You created ${isPrivate ? "the private room" : "the room"} #${room}`);
    send({ action: "joinroom", room });
  },
  invite(frame) {
    showInvite(frame);
  },
  rolechanged({ room, role, by }) {
    if (!state.rooms.has(room)) return;
    holdRole(room, role);
    note(room, `${by} made you a ${role} of #${room}`);
  },
  role({ room, user, role }) {
    const held = state.rooms.get(room);
    if (!held) return;
    held.moderators ??= new Set();
    if (role === "moderator") held.moderators.add(user);
    else held.moderators.delete(user);
    note(room, `${user} is now a ${role}`);
    refreshMembers(room);
  },
  kicked({ room, user }) {
    note(room, `You removed ${user} from #${room}`);
    refreshMembers(room);
  },
  banned({ room, user, until }) {
    note(
      room,
      `You banned ${user} from #${room}${until ? ` until ${new Date(until).toLocaleString()}` : ""}`,
    );
    refreshMembers(room);
  },
};

function refreshMembers(room) {
  if (room === state.active && !ui.members.hidden) send({ action: "members", room });
}
