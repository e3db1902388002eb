import { actionRoute } from "./action-route";

/** `listrooms`: every room with members, and how many. */
export const listRoomsRoute = actionRoute(
  "listrooms",
  { table: ["Query"], post: false },
  async (_fields, _event, deps) => ({
    type: "rooms",
    rooms: await deps.store.listRooms(),
  }),
);
