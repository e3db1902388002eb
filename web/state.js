// The page's state, shared by its modules.

/** Whether the page's role in a room (a `state.rooms` entry) lets it invite, kick, ban and delete any message. */
export const moderates = (room) => room?.role === "owner" || room?.role === "moderator";

export const state = {
  socket: null,
  /** The session the user asked for: { url, name, room, token }; null when disconnected on purpose. */
  session: null,
  /** Whether the server requires a token (the local stack's /config.json says `auth: true`). */
  authRequired: false,
  /**
   * room name -> { log, seen (seqs shown), lastSeq (every seq up to it is shown), maxSeq, next
   * (a `before` for older history), members, unread, joined, filling (the `after` of a history … after
   * in flight, else null), role (owner or moderator, when the page knows it holds one), dm ({ with,
   * name? } for a direct message), memberNames (whom moderation names -> display name, from the
   * last member list) }
   */
  rooms: new Map(),
  active: null,
  /** Messages not yet acknowledged, oldest first: { clientId, room, text, element }. */
  outbox: [],
  /** The outbox entry on the wire: one at a time, so an error frame maps to its message. */
  inFlight: null,
  /** An invitation from the page's address (`#invite=room:code`), joined once connected. */
  invite: null,
  /** room -> the role the page took in a room it created, until it has joined it. */
  pendingRoles: new Map(),
  /** Subjects the page sent `dm` for, until joined: that room opens; one another user opened does not. */
  pendingDms: new Set(),
  /** The `after` of a listrooms page in flight (a continued listing), else undefined. */
  roomsAfter: undefined,
  retries: 0,
  retryTimer: undefined,
  keepAliveTimer: undefined,
  plannedTimer: undefined,
  resendTimer: undefined,
  resumeTimer: undefined,
};
