// Tokens (auth on): from the Token field or the page's own `?token=`, and the name they carry.

import { setStatus, showError, ui } from "./dom.js";

/**
 * The `name` claim of a token, shown as the page's own name (the server takes the name from
 * the token, never from `?name=`); read, not verified: the server verifies it. Null if none.
 */
export function tokenName(token) {
  try {
    const payload = token.split(".")[1].replaceAll("-", "+").replaceAll("_", "/");
    const name = JSON.parse(atob(payload)).name;
    return typeof name === "string" && name ? name : null;
  } catch {
    return null;
  }
}

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
