import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";

/**
 * One slice of one message's fan-out: the worker reads the members of that slice
 * of the room and posts the frame to each but the sender.
 */
export type FanoutJob = {
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
};

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
 * Puts fan-out jobs on the FIFO queue. A job's message group is its room's slice,
 * so each recipient (always in the same slice) gets a room's messages in stored
 * order; its deduplication id is the message's and the slice's, so a stream batch
 * that is retried within SQS's 5-minute window does not post twice.
 *
 * @example
 * await enqueueJobs(sqs, queueUrl, jobs); // throws if SQS refused any entry
 */
export async function enqueueJobs(sqs: SQSClient, queueUrl: string, jobs: readonly FanoutJob[]) {
  for (let start = 0; start < jobs.length; start += batchSize) {
    const batch = jobs.slice(start, start + batchSize);
    const { Failed } = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((job, index) => ({
          Id: String(index),
          MessageBody: JSON.stringify(job),
          MessageGroupId: `${job.room}#${job.slice}`,
          MessageDeduplicationId: `${job.messageId}#${job.slice}`,
        })),
      }),
    );
    if (Failed?.length) {
      throw new Error(`SQS refused ${Failed.length} fan-out job(s): ${JSON.stringify(Failed)}`);
    }
  }
}

/** Reads a job back from a queue message body. @throws on a body that is not a job */
export function parseJob(body: string): FanoutJob {
  const job = JSON.parse(body) as Partial<FanoutJob>;
  const valid =
    typeof job.room === "string" &&
    typeof job.messageId === "string" &&
    typeof job.except === "string" &&
    Number.isInteger(job.slice) &&
    Number.isInteger(job.slices) &&
    typeof job.frame === "string" &&
    typeof job.storedAt === "number";
  if (!valid) throw new Error(`not a fan-out job: ${body.slice(0, 200)}`);
  return job as FanoutJob;
}
