/** @exclusive */
import { everyoneGot, range, stormClient } from "../support/storm-client";
import { faultyTexts, injectFaults } from "../support/storm-faults";
import { createLedger, figures, noProblems, problems } from "../support/storm-ledger";
import { startStormStack, type StormStack } from "../support/storm-stack";
import type { Frame } from "../support/ws-client";

// A handler that throws for one message, at three different steps, while the
// rest of the room and another room keep talking.
const room = "faults";
const calmRoom = "calm";
/** Messages each of the two other senders sends at least, around the faults. */
const trafficPerSender = 30;

let storm: StormStack;

beforeAll(async () => {
  storm = await startStormStack({ overrideDeps: injectFaults });
}, 60_000);

afterAll(() => storm?.stop(), 60_000);

it("a fault before the store rejects the message; after it, the stored message reaches everyone at least once", async () => {
  const { stack, table } = storm;
  const ledger = createLedger();
  const connect = (name: string, home: string) => stormClient(ledger, stack.wsUrl, name, home);
  const [faulty, other, ...listeners] = await Promise.all([
    connect("faulty", room),
    connect("other", room),
    ...range(5).map((i) => connect(`listener-${i}`, room)),
  ]);
  const [calm, ...calmListeners] = await Promise.all([
    connect("calm", calmRoom),
    ...range(3).map((i) => connect(`calm-listener-${i}`, calmRoom)),
  ]);
  const everyone = [faulty, other, ...listeners, calm, ...calmListeners];

  let faulting = true;
  const traffic = Promise.all(
    [other, calm].map(async (sender) => {
      for (let sent = 0; faulting || sent < trafficPerSender; sent++) await sender.send(sender.home);
    }),
  );
  const outcomes: Record<string, string> = {};
  for (const text of Object.values(faultyTexts)) {
    await faulty.send(room);
    const record = await faulty.send(room, text);
    outcomes[text] = record.error ?? "acked";
  }
  await faulty.send(room);
  faulting = false;
  await traffic;
  // The last message of each sender proves every earlier one arrived.
  for (const sender of [faulty, other, calm]) {
    const last = await sender.send(sender.home);
    await everyoneGot(
      everyone.filter((c) => c.home === sender.home && c !== sender),
      last.id!,
    );
  }

  // Not those the safety net delivers (stored by a handler that failed after the store, or
  // whose fan-out crashed): it does once the fast path's cap has passed, maybe after the last ones.
  const safetyNetTexts: string[] = [faultyTexts.afterStore, faultyTexts.midDelivery];
  for (const message of (await table.history(room)).filter((m) => safetyNetTexts.includes(m.text!))) {
    await everyoneGot(
      everyone.filter((c) => c.home === room && c !== faulty),
      message.id,
    );
  }

  expect(outcomes).toEqual({
    [faultyTexts.beforeStore]: "INTERNAL",
    [faultyTexts.afterStore]: "INTERNAL",
    // The fan-out runs after the ack, in the stream worker: the sender never sees its crash.
    [faultyTexts.midDelivery]: "acked",
  });
  expect(stack.connectionCount()).toBe(everyone.length);

  const stored = await table.history(room, calmRoom);
  const report = ledger.verify(stored, [...storm.faults, "injected: a crash mid fan-out"]);
  const messageWith = (text: string) => (f: Frame | string) =>
    (f as Frame).type === "message" && (f as Frame).text === text;
  const receivers = (text: string) => everyone.filter((c) => c.client.frames.some(messageWith(text)));
  const fanOutReached = receivers(faultyTexts.midDelivery).length;
  // How long after its store the safety net delivered a message (to the last of its room): no
  // assertion on time: printed, to set beside docs/design.md's bound (cap + margin + the stream's delay).
  const safetyNetDelayMs = (text: string) => {
    const storedAt = Date.parse(stored.find((m) => m.text === text)!.sentAt);
    const arrivals = receivers(text).map(
      ({ client }) => client.arrivedAt[client.frames.findIndex(messageWith(text))],
    );
    return Math.max(...arrivals) - storedAt;
  };
  console.log(
    figures("handler faults", report, [
      `before the store: ${outcomes[faultyTexts.beforeStore]}, not stored, received by ${receivers(faultyTexts.beforeStore).length}`,
      `after the store: ${outcomes[faultyTexts.afterStore]}, stored, received by ${receivers(faultyTexts.afterStore).length}, the last ${safetyNetDelayMs(faultyTexts.afterStore)} ms after its store`,
      `mid fan-out: ${outcomes[faultyTexts.midDelivery]}, stored, received by ${fanOutReached} of ${listeners.length + 1}, the last ${safetyNetDelayMs(faultyTexts.midDelivery)} ms after its store`,
    ]),
  );
  expect(problems(report)).toEqual(noProblems);
  // Stored exactly when the fault came after the store; and then delivered, at least once, to everyone.
  expect(report.rejected).toBe(2);
  expect(report.storedUnacked.map((m) => m.text)).toEqual([faultyTexts.afterStore]);
  expect(stored.filter((m) => m.text === faultyTexts.beforeStore)).toEqual([]);
  expect(receivers(faultyTexts.beforeStore)).toEqual([]);
  expect(receivers(faultyTexts.afterStore)).toHaveLength(listeners.length + 1);
  expect(fanOutReached).toBe(listeners.length + 1);
}, 60_000);
