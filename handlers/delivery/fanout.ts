import { sliceRanges } from "../../model/slices";
import type { Message } from "../../model/store";
import type { DeliveryReport } from "./delivery";
import type { Deps } from "../deps";
import { enqueueJobs, type FanoutJob } from "./fanout-jobs";
import { frames } from "../protocol";

/**
 * Posts a frame to a room's recipients, then removes the connections that turned
 * out gone (410) in bulk, off the path of any sender. `paced` posts keep to the
 * container's share of the stack-wide post rate (the fan-out workers).
 */
export async function deliver(
  deps: Deps,
  room: string,
  recipients: readonly string[],
  json: string,
  options: { paced?: boolean } = {},
): Promise<DeliveryReport> {
  const report = await deps.delivery.broadcast(recipients, json, options);
  deps.metrics.count("Deliveries", report.delivered);
  deps.metrics.count("GoneConnections", report.gone.length);
  deps.metrics.count("FailedPosts", report.failed.length);
  if (report.gone.length > 0) {
    const { removed, kept } = await deps.store.removeGone(room, report.gone, deps.config.connectGraceSeconds);
    deps.log.info("removed gone connections", { room, removed, kept });
  }
  if (report.failed.length > 0) {
    deps.log.warn("posts failed", { room, recipients: recipients.length, failed: report.failed.length });
  }
  return report;
}

/**
 * The stream worker's part of a stored message: rooms up to `inlineFanoutMax`
 * members are posted to right here; larger ones become one job per slice on the
 * FIFO queue. A room that went to the queue stays there until it empties, so no
 * inline post overtakes a queued one. Throws when the delivery must be retried
 * (the stream then hands the record over again: at least once).
 */
export async function fanOutMessage(deps: Deps, message: Message): Promise<void> {
  const json = JSON.stringify(frames.message(message));
  const storedAt = Date.parse(message.sentAt);
  const info = await deps.store.roomInfo(message.room);
  if (!info?.queued && (info?.members ?? 0) <= deps.config.inlineFanoutMax) {
    const members = await deps.store.membersOf(message.room, { tidy: true });
    if (members.length <= deps.config.inlineFanoutMax) {
      const recipients = members.map((m) => m.connectionId).filter((id) => id !== message.connectionId);
      const report = await deliver(deps, message.room, recipients, json);
      deps.metrics.milliseconds("TimeToLastDelivery", Date.now() - storedAt);
      if (report.failed.length > 0) {
        throw new Error(`${report.failed.length} post(s) of message ${message.id} failed; retrying`);
      }
      return;
    }
  }
  await queueFanout(deps, message, json, storedAt);
}

async function queueFanout(deps: Deps, message: Message, json: string, storedAt: number) {
  const { fanoutQueue } = deps;
  if (!fanoutQueue)
    throw new Error("FANOUT_QUEUE_URL is not set: rooms above inlineFanoutMax need the queue");
  await deps.store.markQueued(message.room);
  const slices = deps.config.fanoutSlices;
  const jobs: FanoutJob[] = sliceRanges(slices).map(({ slice }) => ({
    room: message.room,
    messageId: message.id,
    except: message.connectionId,
    slice,
    slices,
    frame: json,
    storedAt,
  }));
  await enqueueJobs(fanoutQueue.client, fanoutQueue.url, jobs);
  deps.metrics.count("FanoutJobs", jobs.length);
}
