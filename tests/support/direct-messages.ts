/**
 * The `joined` frame a DM's user gets (in reply, or pushed) before anything was posted to it;
 * `name` null when the other user's name is not known (no live connection).
 */
export const openedDm = (room: string, members: number, other: string, name: string | null = other) => ({
  type: "joined",
  room,
  members,
  history: [],
  next: null,
  seq: 0,
  dm: { with: other, ...(name !== null && { name }) },
});
