import { sliceRanges } from "../../model/slices";
import type { Message } from "../../model/store";
import type { BroadcastOptions, DeliveryReport } from "./delivery";
import type { Deps } from "../deps";
import { enqueueJobs, type DeliveryJob, type SliceJob } from "./fanout-jobs";
import { frames } from "../frames";

/**
 * Posts a frame to a room's recipients, then removes the connections that turned
 * out gone (410) in bulk, off the path of any sender.
 */
export async function deliver(
  deps: Deps,
  room: string,
  recipients: readonly string[],
  json: string,
  options: BroadcastOptions = {},
): Promise<DeliveryReport> {
  const report = await deps.delivery.broadcast(recipients, json, options);
  deps.metrics.count("Deliveries", report.delivered);
  deps.metrics.count("GoneConnections", report.gone.length);
  deps.metrics.count("FailedPosts", report.failed.length);
  deps.throttles.record(recipients.length, report.throttled.length);
  if (report.gone.length > 0) {
    const { removed, kept } = await deps.store.removeGone(room, report.gone, deps.config.connectGraceSeconds);
    deps.log.info("removed gone connections", { room, removed, kept });
  }
  if (report.failed.length > 0) {
    deps.log.warn("posts failed", { room, recipients: recipients.length, failed: report.failed.length });
  }
  return report;
}

/** Queues delivery jobs. @throws when no queue is configured or SQS refuses one */
export async function queueJobs(deps: Deps, jobs: readonly DeliveryJob[]) {
  if (jobs.length === 0) return;
  if (!deps.fanoutQueue) throw new Error("FANOUT_QUEUE_URL is not set: delivery jobs need the queue");
  await enqueueJobs(deps.fanoutQueue.client, deps.fanoutQueue.url, jobs);
}

/** Hands each recipient a post did not reach to a retry job of its own: no lane waits for it. */
export async function retryRecipients(
  deps: Deps,
  room: string,
  messageId: string,
  failed: readonly string[],
  json: string,
) {
  const firstFailedAt = Date.now();
  await queueJobs(
    deps,
    failed.map((connectionId) => ({
      kind: "recipient",
      room,
      messageId,
      connectionId,
      frame: json,
      firstFailedAt,
    })),
  );
  deps.metrics.count("RecipientRetries", failed.length);
}

/**
 * How long a fast path's posts may still take once half of them have answered (or as long again
 * as that half took, if longer: a container short of CPU reads its answers late). A healthy post
 * answers in about one round trip, as the others did; one still open after this belongs to a
 * recipient that does not read, and would hold the sender's ack (and the Lambda) for the whole
 * cap. Ended, it goes to a retry job of its own like any failed post; had it arrived after all,
 * the client drops the repeat by its seq.
 */
const stragglerGraceMs = 250;

/**
 * Delivers a stored room event (a message, an edit or a delete), settling it: when it has at
 * most `inlineFanoutMax` recipients (the members, read strongly consistent after the store,
 * but its sender), they are posted to here, all at once, one attempt each, all ended by the
 * fast path's cap, a straggler's sooner (see {@link stragglerGraceMs}); each post that did not
 * go through becomes a retry job. Posting all at once makes the last delivery one post's time
 * after the first, not a share of the room's. More recipients become one job per slice on the
 * queue. Resolves once every recipient was posted to or handed off; throws if that could not be
 * done.
 */
export async function fanOutMessage(deps: Deps, message: Message): Promise<void> {
  const json = JSON.stringify(frames.roomEvent(message));
  const storedAt = Date.parse(message.sentAt);
  const max = deps.config.inlineFanoutMax;
  // One more than the cap: the sender is a member but no recipient.
  const members = await deps.store.smallRoomMembers(message.room, max + 1);
  const recipients = members?.map((m) => m.connectionId).filter((id) => id !== message.connectionId);
  if (!recipients || recipients.length > max) return queueSlices(deps, message, json, storedAt);
  const report = await deliver(deps, message.room, recipients, json, {
    paced: true,
    maxAttempts: 1,
    deadline: Date.now() + deps.config.fastPathTimeoutMs,
    concurrency: recipients.length,
    stragglerGraceMs,
  });
  deps.metrics.milliseconds("TimeToLastDelivery", Date.now() - storedAt);
  await retryRecipients(deps, message.room, message.id, report.failed, json);
}

async function queueSlices(deps: Deps, message: Message, json: string, storedAt: number) {
  const slices = deps.config.fanoutSlices;
  const jobs: SliceJob[] = sliceRanges(slices).map(({ slice }) => ({
    kind: "slice",
    room: message.room,
    messageId: message.id,
    except: message.connectionId,
    slice,
    slices,
    frame: json,
    storedAt,
  }));
  await queueJobs(deps, jobs);
  deps.metrics.count("FanoutJobs", jobs.length);
}
