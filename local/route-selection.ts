import type { Route } from "../handlers/route";

/**
 * Route selection on `$request.body.action`: the route whose key is the frame's
 * `action`; non-JSON, no or an unmatched action (or a reserved `$` key) -> `$default`.
 * Undefined when nothing matches and the API has no `$default`.
 */
export function selectRoute(routes: readonly Route[], body: string): Route | undefined {
  let action: unknown;
  try {
    const parsed: unknown = JSON.parse(body);
    action =
      typeof parsed === "object" && parsed !== null ? (parsed as { action?: unknown }).action : undefined;
  } catch {
    action = undefined;
  }
  const matched =
    typeof action === "string" && !action.startsWith("$") ? routes.find((r) => r.key === action) : undefined;
  return matched ?? routes.find((r) => r.key === "$default");
}
