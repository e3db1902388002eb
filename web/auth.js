// Tokens (auth on): from the Token field or the page's own `?token=`, and the name they carry.

import { setStatus, showError, ui } from "./dom.js";

/** A string claim of a token; read, not verified (the server verifies it). Null if none. */
function claim(token, key) {
  try {
    const payload = token.split(".")[1].replaceAll("-", "+").replaceAll("_", "/");
    const value = JSON.parse(atob(payload))[key];
    return typeof value === "string" && value ? value : null;
  } catch {
    return null;
  }
}

/** The `name` claim: shown as the page's own name (the server takes the name from the token, never from `?name=`). */
export const tokenName = (token) => claim(token, "name");

/** The `sub` claim: who the page is with auth on, as `members` entries (`user`) name it. */
export const tokenSubject = (token) => claim(token, "sub");

/** `?token=` in the page's address: used, then taken out of the address bar (and its history). */
export function tokenFromAddress() {
  const address = new URL(location.href);
  const token = address.searchParams.get("token");
  if (token === null) return null;
  address.searchParams.delete("token");
  window.history.replaceState(null, "", address.href);
  return token;
}

export function askForToken() {
  setStatus("Not connected");
  showError(
    "This server needs a token to connect: paste one into Token (or open the page with ?token=…) " +
      "and press Connect. On the local stack: npm run -s token -- --name you",
  );
  ui.token.focus();
}
