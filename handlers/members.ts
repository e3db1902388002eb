import { actionRoute } from "./action-route";
import { requireMember } from "./membership";
import { fitting } from "./reply-size";

/** Members read per `members` page: more names than fit in one frame would be wasted reads. */
const membersPerRead = 2000;

/**
 * `members`: who is in a room (names only), in pages that fit in one frame; `next`
 * (for `after`) is the start of the first connection id not shown — just long
 * enough to sort after the last one shown, never a whole id.
 */
export const membersRoute = actionRoute(
  "members",
  { table: ["GetItem", "Query"], post: false },
  async ({ room, after }, event, deps) => {
    await requireMember(deps, room, event.requestContext.connectionId);
    const { members, more } = await deps.store.membersFrom(room, after, membersPerRead);
    const names = members.map(({ name }) => ({ name }));
    const envelope = (page: unknown[], next: string | null) => ({
      type: "members",
      room,
      members: page,
      next,
    });
    // When the read stopped short of the room's end, its last member is where the next page starts.
    const candidates = more ? names.length - 1 : names.length;
    const count = fitting(names.slice(0, candidates), (page) => envelope(page, "x".repeat(15)));
    const firstNotShown = count < members.length ? members[count].connectionId : undefined;
    const next = firstNotShown
      ? cursorBetween(members[count - 1]?.connectionId ?? after ?? "", firstNotShown)
      : null;
    return envelope(names.slice(0, count), next);
  },
);

/** The shortest start of `next` that sorts after `last`: where the following page begins. */
function cursorBetween(last: string, next: string): string {
  for (let length = 1; length < next.length; length++) {
    const prefix = next.slice(0, length);
    if (prefix > last) return prefix;
  }
  return next.slice(0, 15);
}
