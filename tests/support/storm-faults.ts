import type { Deps } from "../../handlers/deps";

/** Message texts that make the handlers fail, each at another step of `sendmessage`. */
export const faultyTexts = {
  /** The store throws before writing anything. */
  beforeStore: "fault: before the store",
  /** The store writes the message, then throws. */
  afterStore: "fault: after the store",
  /** The fan-out posts to half the recipients, then throws. */
  midDelivery: "fault: in the middle of the fan-out",
} as const;

/** For `startLocalStack({ overrideDeps })`: the real store and delivery, failing on the faulty texts only. */
export function injectFaults(deps: Deps): Partial<Deps> {
  const { store, delivery } = deps;
  return {
    store: {
      ...store,
      async post(input) {
        if (input.text === faultyTexts.beforeStore) throw new Error("injected fault before the store");
        const result = await store.post(input);
        if (input.text === faultyTexts.afterStore) throw new Error("injected fault after the store");
        return result;
      },
    },
    delivery: {
      ...delivery,
      async broadcast(endpoint, connectionIds, frame, log) {
        if ((frame as { text?: string }).text !== faultyTexts.midDelivery) {
          return delivery.broadcast(endpoint, connectionIds, frame, log);
        }
        await delivery.broadcast(
          endpoint,
          connectionIds.slice(0, Math.ceil(connectionIds.length / 2)),
          frame,
          log,
        );
        throw new Error("injected fault in the middle of the fan-out");
      },
    },
  };
}
