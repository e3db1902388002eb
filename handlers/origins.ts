/**
 * Which web pages may open a WebSocket to the chat: the browser sends the page's
 * origin on the handshake, so a page elsewhere cannot drive a user's connection.
 * A handshake without an `Origin` header comes from no page (wscat, a server) and
 * passes; `undefined` allows every origin (a stack with no `allowedOrigins`).
 */
export function originAllowed(origin: string | undefined, allowed: readonly string[] | undefined): boolean {
  return origin === undefined || allowed === undefined || allowed.includes(origin);
}

/** `ALLOWED_ORIGINS=https://chat.example.com,http://localhost:3001`; unset or empty: undefined (any). */
export function parseOrigins(value: string | undefined): string[] | undefined {
  const origins = (value ?? "")
    .split(",")
    .map((origin) => origin.trim())
    .filter(Boolean);
  return origins.length > 0 ? origins : undefined;
}

/** A header of an API Gateway event, whatever its case (`Origin`, `origin`). */
export function headerOf(headers: Record<string, string | undefined> | null | undefined, name: string) {
  const key = Object.keys(headers ?? {}).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers![key];
}
