import type { Deps } from "../../handlers/deps";

/** Message texts that make the handlers fail, each at another step of `sendmessage`. */
export const faultyTexts = {
  /** The store throws before writing anything. */
  beforeStore: "fault: before the store",
  /** The store writes the message, then throws. */
  afterStore: "fault: after the store",
  /** The fan-out posts to half the recipients, then crashes, once per message. */
  midDelivery: "fault: in the middle of the fan-out",
} as const;

/** For `startLocalStack({ overrideDeps })`: the real store and delivery, failing on the faulty texts only. */
export function injectFaults(deps: Deps): Partial<Deps> {
  const { store, delivery } = deps;
  const crashed = new Set<string>();
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
      async broadcast(connectionIds, json, options) {
        if (!json.includes(faultyTexts.midDelivery)) return delivery.broadcast(connectionIds, json, options);
        // The first hand-over posts to half the room and crashes; the stream hands the message over again.
        if (!crashed.has(json)) {
          crashed.add(json);
          await delivery.broadcast(
            connectionIds.slice(0, Math.ceil(connectionIds.length / 2)),
            json,
            options,
          );
          throw new Error("injected fault in the middle of the fan-out");
        }
        return delivery.broadcast(connectionIds, json, options);
      },
    },
  };
}
