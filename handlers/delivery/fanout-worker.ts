import { ChangeMessageVisibilityCommand } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { sliceRanges } from "../../model/slices";
import type { Deps } from "../deps";
import { deliver, queueJobs, retryRecipients } from "./fanout";
import { parseJob, type RecipientJob, type SliceJob } from "./fanout-jobs";
import type { Worker } from "../worker";

/** A job that is not done yet: it comes back after `retryInSeconds` (ChangeMessageVisibility). */
type Outcome = { retryInSeconds: number } | undefined;

/**
 * Consumes delivery jobs from the FIFO queue: a slice of a large room's fan-out, or a
 * recipient whose post failed.
 * No job waits for a recipient: failed posts become recipient jobs, each in a message
 * group of its own. A job that is not done comes back after a short backoff it sets
 * itself (ChangeMessageVisibility), not after the queue's visibility timeout.
 */
export const fanoutWorker: Worker<SQSEvent, SQSBatchResponse> = {
  name: "fanout",
  permissions: {
    table: ["GetItem", "Query", "DeleteItem", "BatchWriteItem"],
    post: true,
    disconnect: true,
    queue: true,
  },
  async handle(event, deps) {
    for (const [index, record] of event.Records.entries()) {
      let outcome: Outcome;
      try {
        outcome = await runJob(record, deps);
      } catch (error) {
        deps.log.error("delivery job failed", { messageId: record.messageId, error });
        outcome = { retryInSeconds: Math.min(2 ** (receiveCount(record) - 1), 30) };
      }
      if (outcome) {
        await comeBackIn(deps, record, outcome.retryInSeconds);
        // Every job after it too: they may share its message group, whose order holds.
        return {
          batchItemFailures: event.Records.slice(index).map((r) => ({ itemIdentifier: r.messageId })),
        };
      }
    }
    return { batchItemFailures: [] };
  },
};

const receiveCount = (record: SQSRecord) => Number(record.attributes.ApproximateReceiveCount ?? "1");

async function comeBackIn(deps: Deps, record: SQSRecord, seconds: number) {
  if (!deps.fanoutQueue) return;
  try {
    await deps.fanoutQueue.client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: deps.fanoutQueue.url,
        ReceiptHandle: record.receiptHandle,
        VisibilityTimeout: Math.max(0, Math.ceil(seconds)),
      }),
    );
  } catch (error) {
    // The queue's visibility timeout still brings it back, later.
    deps.log.warn("could not shorten a job's visibility", { messageId: record.messageId, error });
  }
}

async function runJob(record: SQSRecord, deps: Deps): Promise<Outcome> {
  const job = parseJob(record.body);
  switch (job.kind) {
    case "slice":
      return runSlice(job, deps);
    case "recipient":
      return retryRecipient(job, record, deps);
  }
}

/** DynamoDB returns at most 1 MB a Query; a thousand memberships are about 62 KB. */
const maxMembersPerRead = 1000;

/**
 * Posts to a slice of a room page by page, for about half the function's timeout at most:
 * what is left then goes to a job of its own (same message group, after the last member
 * read), so no room is too large for its slices. Posts still running at that time end
 * as failed and are retried on their own.
 */
async function runSlice(job: SliceJob, deps: Deps): Promise<Outcome> {
  const { config } = deps;
  const range = sliceRanges(job.slices)[job.slice];
  const budgetMs = (config.fanoutTimeoutSeconds * 1000) / 2;
  const deadline = Date.now() + budgetMs;
  // A page is what this worker posts in a quarter of its time at its share of the stack's rate.
  const postsPerSecond = config.maxPostsPerSecond / Math.max(1, config.fanoutMaxConcurrency);
  const perRead = Math.max(1, Math.min(maxMembersPerRead, Math.floor((postsPerSecond * budgetMs) / 4000)));
  let after = job.after;
  for (;;) {
    const pageStarted = Date.now();
    const page = await deps.store.membersFrom(job.room, after, perRead, { slice: range, tidy: true });
    const recipients = page.members.map((m) => m.connectionId).filter((id) => id !== job.except);
    const report = await deliver(deps, job.room, recipients, job.frame, { paced: true, deadline });
    await retryRecipients(deps, job.room, job.messageId, report.failed, job.frame);
    if (!page.lastRead) break;
    after = page.lastRead;
    if (Date.now() + (Date.now() - pageStarted) > deadline) {
      await queueJobs(deps, [{ ...job, after }]);
      deps.metrics.count("FanoutJobs");
      deps.log.info("slice goes on in a job of its own", { room: job.room, slice: job.slice, after });
      return undefined;
    }
  }
  deps.metrics.milliseconds("TimeToLastDelivery", Date.now() - job.storedAt);
  return undefined;
}

/**
 * One recipient's retry: posted again (with the transport's retries) only while it is
 * still a member (a removed one gets nothing more). Its first retry comes at once, the next
 * after a second, the last when `recipientGiveUpSeconds` have passed since its first failure;
 * if that fails too it is disconnected (never sooner), so its client reconnects and resumes. Nothing goes to a dead-letter
 * queue for it (the queue's maxReceiveCount is at least 3). When most of the container's
 * posts are throttled, the account is (not this client): it backs off, disconnected never.
 */
async function retryRecipient(job: RecipientJob, record: SQSRecord, deps: Deps): Promise<Outcome> {
  const member = await deps.store.getMembership(job.room, job.connectionId);
  if (!member) return undefined;
  // The transport's own retries too: a slow moment of the endpoint is not the recipient's failure.
  const report = await deliver(deps, job.room, [job.connectionId], job.frame);
  if (report.failed.length === 0) return undefined;
  const giveUpAt = job.firstFailedAt + deps.config.recipientGiveUpSeconds * 1000;
  if (report.throttled.length > 0 && deps.throttles.accountThrottled()) {
    deps.log.warn("posts throttled account-wide: backing off, disconnecting no one", { room: job.room });
    if (receiveCount(record) < 2) return { retryInSeconds: 5 };
    // A fresh job (a new receive count), so a long throttle sends nothing to the dead-letter queue.
    await queueJobs(deps, [{ ...job, firstFailedAt: Date.now(), round: (job.round ?? 0) + 1 }]);
    return undefined;
  }
  const now = Date.now();
  if (now < giveUpAt) {
    // Time decides, not the receive count: a job whose visibility change was refused comes back early.
    if (receiveCount(record) < 3) {
      return { retryInSeconds: receiveCount(record) === 1 ? 1 : (giveUpAt - now) / 1000 };
    }
    // Back early too often to wait as this message (dead letters start at 3 receives): a fresh job does.
    await queueJobs(deps, [{ ...job, round: (job.round ?? 0) + 1 }]);
    return undefined;
  }
  await deps.closeConnection(job.connectionId);
  deps.metrics.count("RecipientDisconnects");
  deps.log.warn("disconnected a recipient whose posts kept failing", {
    room: job.room,
    recipient: job.connectionId,
    failingForMs: now - job.firstFailedAt,
  });
  return undefined;
}
