import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { sliceRanges } from "../../model/slices";
import type { Deps } from "../deps";
import { deliver } from "./fanout";
import { parseJob } from "./fanout-jobs";
import type { Worker } from "../worker";

/**
 * Consumes fan-out jobs from the FIFO queue: for each, reads one slice of the room
 * and posts the frame to its members, at this worker's share of the stack-wide
 * post rate. A job with posts that still failed after the transport's retries is
 * reported with every job after it in the batch (they may share its message
 * group: order holds), and SQS hands them over again after the visibility timeout;
 * after `maxReceiveCount` receives they go to the dead-letter queue.
 */
export const fanoutWorker: Worker<SQSEvent, SQSBatchResponse> = {
  name: "fanout",
  permissions: { table: ["Query", "DeleteItem", "BatchWriteItem"], post: true },
  async handle(event, deps) {
    for (const [index, record] of event.Records.entries()) {
      try {
        await runJob(record.body, deps);
      } catch (error) {
        deps.log.error("fan-out job failed", { messageId: record.messageId, error });
        return {
          batchItemFailures: event.Records.slice(index).map((r) => ({ itemIdentifier: r.messageId })),
        };
      }
    }
    return { batchItemFailures: [] };
  },
};

async function runJob(body: string, deps: Deps) {
  const job = parseJob(body);
  const range = sliceRanges(job.slices)[job.slice];
  const members = await deps.store.membersOf(job.room, { slice: range, tidy: true });
  const recipients = members.map((m) => m.connectionId).filter((id) => id !== job.except);
  const report = await deliver(deps, job.room, recipients, job.frame, { paced: true });
  deps.metrics.milliseconds("TimeToLastDelivery", Date.now() - job.storedAt);
  if (report.failed.length > 0) {
    throw new Error(`${report.failed.length} of ${recipients.length} post(s) failed in slice ${job.slice}`);
  }
}
