import type { StoreContext } from "./context";

/** The clientIds a client session has used: whether a frame repeats one. */
export function clientIdStore({ entities, live }: StoreContext) {
  const { clientMessage } = entities;
  return {
    /** Whether this session already stored a message with this clientId in the room (still remembered). */
    async isRepeat(room: string, session: string, clientId: string): Promise<boolean> {
      const { data } = await clientMessage.get({ room, session, clientId }).go({ consistent: true });
      return live(data);
    },
  };
}
