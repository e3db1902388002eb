import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";

/**
 * One slice of one message's fan-out: the worker reads the members of that slice
 * of the room and posts the frame to each but the sender.
 */
export type SliceJob = {
  kind: "slice";
  room: string;
  messageId: string;
  /** The sender's connection: it gets the ack, not a copy. */
  except: string;
  slice: number;
  /** Slices the room was cut into when the job was planned (the ranges follow from it). */
  slices: number;
  /** The frame's JSON, serialized once. */
  frame: string;
  /** When the message was stored (ms): the worker reports the time to its last delivery. */
  storedAt: number;
  /** The slice's last member already posted to by an earlier job of this message (a slice too large for one job). */
  after?: string;
};

/** One recipient a post did not reach: retried on its own, with backoff, until it gives up on it. */
export type RecipientJob = {
  kind: "recipient";
  room: string;
  messageId: string;
  connectionId: string;
  frame: string;
  /** When its first post failed (ms): the recipient is disconnected after `recipientGiveUpSeconds`. */
  firstFailedAt: number;
  /** A job put back as a fresh one (an account-wide throttle outlasted it) is the next round. */
  round?: number;
};

export type DeliveryJob = SliceJob | RecipientJob;

/**
 * Jobs per fan-out invocation (the queue mapping's batch size). One: each invocation posts
 * one slice at its container's share of the stack's post rate, so a room's slices run in
 * as many containers as the mapping's maximum concurrency allows. With 10 per batch, a
 * message's 16 slices ran in 2 invocations, one slice after another (bench: fanout-scale).
 */
export const fanoutJobsPerInvocation = 1;

/** SendMessageBatch takes at most 10 entries. */
const batchSize = 10;

/**
 * Each job's FIFO message group, its lane: a slice's jobs keep the room's order for that
 * slice; a recipient's retries wait only for each other, never for another recipient.
 */
function groupOf(job: DeliveryJob): string {
  switch (job.kind) {
    case "slice":
      return `${job.room}#${job.slice}`;
    case "recipient":
      return `to#${job.connectionId}`;
  }
}

/** A job sent twice within SQS's 5-minute window (a retried stream batch, a resend) is kept once. */
function deduplicationIdOf(job: DeliveryJob): string {
  switch (job.kind) {
    case "slice":
      return `${job.messageId}#${job.slice}${job.after === undefined ? "" : `#${job.after}`}`;
    case "recipient":
      return `${job.messageId}#to#${job.connectionId}#${job.round ?? 0}`;
  }
}

/**
 * Puts delivery jobs on the FIFO queue, each in its message group and with its
 * deduplication id (above).
 *
 * @example
 * await enqueueJobs(sqs, queueUrl, jobs); // throws if SQS refused any entry
 */
export async function enqueueJobs(sqs: SQSClient, queueUrl: string, jobs: readonly DeliveryJob[]) {
  const batches = [];
  for (let start = 0; start < jobs.length; start += batchSize)
    batches.push(jobs.slice(start, start + batchSize));
  await Promise.all(
    batches.map(async (batch) => {
      const { Failed } = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: batch.map((job, index) => ({
            Id: String(index),
            MessageBody: JSON.stringify(job),
            MessageGroupId: groupOf(job),
            MessageDeduplicationId: deduplicationIdOf(job),
          })),
        }),
      );
      if (Failed?.length) {
        throw new Error(`SQS refused ${Failed.length} delivery job(s): ${JSON.stringify(Failed)}`);
      }
    }),
  );
}

const isString = (value: unknown) => typeof value === "string";
const isNumber = (value: unknown) => typeof value === "number";

/** Reads a job back from a queue message body. @throws on a body that is not a job */
export function parseJob(body: string): DeliveryJob {
  const job = JSON.parse(body) as Record<string, unknown>;
  const common = isString(job.room) && isString(job.messageId);
  const valid =
    common &&
    ((job.kind === "slice" &&
      isString(job.except) &&
      Number.isInteger(job.slice) &&
      Number.isInteger(job.slices) &&
      isString(job.frame) &&
      isNumber(job.storedAt) &&
      (job.after === undefined || isString(job.after))) ||
      (job.kind === "recipient" &&
        isString(job.connectionId) &&
        isString(job.frame) &&
        isNumber(job.firstFailedAt)));
  if (!valid) throw new Error(`not a delivery job: ${body.slice(0, 200)}`);
  return job as DeliveryJob;
}
