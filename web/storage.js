// What the page keeps in the browser's storage, and how it reads it back.

const savedPrefs = "roomcast.prefs";
const savedSession = "roomcast.session";
// While connected: the server, name, default room and each room's last seq and role, so a reload resumes.
const savedRooms = "roomcast.rooms";
// The ids of messages this browser sent (acknowledged), so it offers to edit and delete them.
const savedOwnIds = "roomcast.own";
// The token, per tab: it survives a reload, not the closed tab.
const savedToken = "roomcast.token";
const maxOwnIds = 500;

export const roomPattern = /^[A-Za-z0-9_-]{1,64}$/;

function readJson(storage, key) {
  try {
    return JSON.parse(storage.getItem(key));
  } catch {
    return null;
  }
}

export const loadPrefs = () => readJson(localStorage, savedPrefs) ?? {};
export const savePrefs = (prefs) => localStorage.setItem(savedPrefs, JSON.stringify(prefs));

/**
 * This browser's chat session, issued by the server (the `session` action) and sent at
 * connect (`?session=`), kept across reconnects and reloads: the server scopes `clientId`
 * idempotency to it (and, without auth, message authorship and room roles), so a resend
 * after a reconnect is recognised as the same message.
 */
export function storedSession() {
  const id = localStorage.getItem(savedSession);
  return id && /^[A-Za-z0-9_-]{16,64}$/.test(id) ? id : null;
}
export const saveSession = (id) => localStorage.setItem(savedSession, id);

export const storedToken = () => sessionStorage.getItem(savedToken) ?? "";
export function saveToken(token) {
  if (token) sessionStorage.setItem(savedToken, token);
  else sessionStorage.removeItem(savedToken);
}

/** The saved session and rooms ([{ room, after, role? }]) a reload resumes, or null. */
export function loadRooms() {
  const saved = readJson(localStorage, savedRooms);
  if (!saved?.session || !Array.isArray(saved.rooms)) return null;
  const rooms = saved.rooms.filter(
    ({ room, after }) => roomPattern.test(room) && Number.isSafeInteger(after) && after >= 0,
  );
  return { session: saved.session, rooms };
}
export const saveRooms = (session, rooms) =>
  localStorage.setItem(savedRooms, JSON.stringify({ session, rooms }));
export const forgetRooms = () => localStorage.removeItem(savedRooms);

const ownIds = new Set(readJson(localStorage, savedOwnIds) ?? []);
export const isOwnId = (id) => ownIds.has(id);
export function rememberOwnId(id) {
  ownIds.add(id);
  localStorage.setItem(savedOwnIds, JSON.stringify([...ownIds].slice(-maxOwnIds)));
}
