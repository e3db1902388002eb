import type { Message } from "../../model/store";
import type { Deps } from "../deps";
import { fanOutMessage } from "./fanout";

/**
 * Past the fast path's cap, the time its request may still need to hand off failed posts
 * and write the mark (a cold SQS client, a throttled write) before the safety net takes over.
 */
export const safetyNetMarginMs = 2000;

/** How often the stream worker reads the marks again while it waits for young messages. */
const markPollMs = 50;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * How long the room's head waits for the posts. A post answers in one round trip; one that
 * has not after this is a straggler (a recipient that does not read holds its post up to the
 * fast path's cap), and a head held back behind it makes the room's next send find its number
 * taken, back off and store it again before posting.
 */
const headGraceMs = 100;

/**
 * Settling a stored event: delivering it, moving its room's head up to it (the next writer's
 * first read) and, once delivered, its mark with, for a message, its id's index. The writes
 * start after the posts, not beside them: in one process (the local stack, the benchmarks)
 * writes in flight beside the posts made a 10-member room's last delivery about a third later
 * (p50 35–37 ms against 25–27 ms, two runs each). The head waits at most {@link headGraceMs}.
 */
async function settle(deps: Deps, event: Message): Promise<void> {
  const fanned = fanOutMessage(deps, event);
  let grace: NodeJS.Timeout | undefined;
  await Promise.race([fanned, new Promise((resolve) => (grace = setTimeout(resolve, headGraceMs)))]).catch(
    () => undefined,
  );
  clearTimeout(grace);
  const head = deps.store.advanceHead(event);
  await Promise.all([fanned.then(() => deps.store.markSettled(event)), head]);
}

/**
 * The fast path: the request that stored the message settles it, then marks it settled.
 * It never fails the send: a message it could not settle (SQS down, the mark refused, the
 * Lambda timed out) has no mark, and the stream's safety net settles it.
 */
export async function deliverFromSender(deps: Deps, message: Message): Promise<void> {
  try {
    await settle(deps, message);
  } catch (error) {
    deps.log.error("fast path failed: the safety net delivers the message", {
      room: message.room,
      seq: message.seq,
      error,
    });
  }
}

/**
 * The safety net, for the messages of a stream batch. Those with a delivery mark are done
 * (one BatchGetItem per 100 messages, no post): on AWS the stream hop alone outlasts a
 * small room's fast path. It waits, reading the marks again, for the others until each is
 * marked or due (its fast path's cap and margin after the store), and delivers those
 * still unmarked then, rooms concurrently. So a message is delivered at most
 * `fastPathTimeoutMs` + {@link safetyNetMarginMs} after it was stored, plus the stream's
 * own delay, and the lane waits on a message only while its fast path may still run.
 */
export async function settleStoredMessages(deps: Deps, messages: readonly Message[]): Promise<void> {
  if (messages.length === 0) return;
  const { store } = deps;
  // Measured on this container's monotonic clock, and never longer than a fast path can last:
  // a clock that disagrees with the one that stamped `sentAt` cannot hold the lane longer.
  const start = performance.now();
  const longest = deps.config.fastPathTimeoutMs + safetyNetMarginMs;
  const waitFor = (m: Message) => Math.min(longest, Date.parse(m.sentAt) + longest - Date.now());
  const due = new Map(messages.map((m) => [store.deliveryKey(m), start + waitFor(m)]));
  let open = [...messages];
  for (;;) {
    const marked = await store.deliveredAmong(open);
    open = open.filter((m) => !marked.has(store.deliveryKey(m)));
    const now = performance.now();
    if (open.every((m) => due.get(store.deliveryKey(m))! <= now)) break;
    await sleep(markPollMs);
  }
  const byRoom = new Map<string, Message[]>();
  for (const m of open) byRoom.set(m.room, [...(byRoom.get(m.room) ?? []), m]);
  await Promise.all(
    [...byRoom.values()].map(async (roomMessages) => {
      for (const message of roomMessages) await deliverBySafetyNet(deps, message);
    }),
  );
}

async function deliverBySafetyNet(deps: Deps, message: Message) {
  await settle(deps, message);
  deps.metrics.count("SafetyNetDeliveries");
  deps.log.warn("safety net delivered a message its fast path did not settle", {
    room: message.room,
    seq: message.seq,
    storedAt: message.sentAt,
  });
}
