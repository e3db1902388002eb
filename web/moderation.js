// Private rooms and moderation: creating a room, invitation links, direct invitations, and
// the member list with kick, ban and promote for owners and moderators (and, with auth on,
// a direct message to each other signed-in member).

import { tokenSubject } from "./auth.js";
import { button, el, showError, ui } from "./dom.js";
import { send } from "./connection.js";
import { openDirectMessage } from "./direct-messages.js";
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

/**
 * The member list; beside each other member an owner or moderator gets a row of actions, and
 * with auth on anyone gets Message. Actions name a member as the server's `user` does: with
 * auth on its token subject (only a verified member has one), with auth off its display name.
 */
export function showMembers({ room: name, members, role }) {
  if (state.rooms.has(name)) holdRole(name, role);
  if (name !== state.active) return;
  const room = state.rooms.get(name);
  const token = state.session?.token;
  const me = token ? tokenSubject(token) : state.session?.name;
  room.memberNames = new Map();
  ui.members.replaceChildren(
    ...members.map(({ name: member, user }) => {
      const item = el("li");
      item.append(el("span", "member-name", member));
      const target = token ? user : member;
      if (target !== undefined) room.memberNames.set(target, member);
      if (target !== undefined && target !== me) {
        const actions = memberActions(name, room, target, member);
        if (actions.childElementCount > 0) item.append(actions);
      }
      return item;
    }),
  );
  ui.members.hidden = false;
  ui.showMembers.setAttribute("aria-expanded", "true");
}

/**
 * Message (auth on, outside a DM), Kick and Ban (owner or moderator) and, for the owner,
 * Make moderator or Make member, for the member `user` names (with auth off, the server acts
 * on the one member of the room with that name: see the README's moderation section).
 */
function memberActions(room, held, user, member) {
  const actions = el("span", "member-actions");
  const add = (label, onClick) => {
    const action = button(label, onClick, "small");
    action.setAttribute("aria-label", `${label} ${member}`);
    actions.append(action);
  };
  const act = (label, frame) => add(label, () => send({ room, user, ...frame }));
  if (state.session?.token && !held.dm) add("Message", () => openDirectMessage(user));
  if (!moderates(held)) return actions;
  if (held.role === "owner") {
    const isModerator = held.moderators?.has(user);
    act(isModerator ? "Make member" : "Make moderator", {
      action: "setrole",
      role: isModerator ? "member" : "moderator",
    });
  }
  act("Kick", { action: "kick" });
  act("Ban", { action: "ban" });
  return actions;
}

/** A member as the last member list showed it: `user` is a display name, or a subject with auth on. */
const memberName = (room, user) => state.rooms.get(room)?.memberNames?.get(user) ?? user;

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
  /** A direct invitation (auth on): the room on show says who invited the page where, with Join. */
  invited({ room, by }) {
    const item = el("li", "presence", `${by} invited you to #${room} `);
    const join = button("Join", () => send({ action: "joinroom", room }), "small");
    join.setAttribute("aria-label", `Join #${room}`);
    item.append(join);
    append(state.active, item);
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
    note(room, `${memberName(room, user)} is now a ${role}`);
    refreshMembers(room);
  },
  kicked({ room, user }) {
    note(room, `You removed ${memberName(room, user)} from #${room}`);
    refreshMembers(room);
  },
  banned({ room, user, until }) {
    note(
      room,
      `You banned ${memberName(room, user)} from #${room}${until ? ` until ${new Date(until).toLocaleString()}` : ""}`,
    );
    refreshMembers(room);
  },
};

function refreshMembers(room) {
  if (room === state.active && !ui.members.hidden) send({ action: "members", room });
}
