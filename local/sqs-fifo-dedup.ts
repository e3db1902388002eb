/**
 * local-aws-sqs 2.0.2 drops a FIFO message as a duplicate only while a message with the
 * same deduplication id is still in the queue. SQS drops it for 5 minutes after the first
 * was sent, consumed or not: a stream batch retried after its fan-out jobs ran must not
 * enqueue them again. This keeps each queue's deduplication ids for that interval; a
 * repeat is accepted (with the first message's id, as SQS answers) and not enqueued. It
 * wraps the package's internal `setRecord`, so the package is pinned and
 * tests/local/sqs-mapping.test.ts checks it.
 */

/** SQS's deduplication interval. */
export const deduplicationIntervalMs = 5 * 60 * 1000;

type SendBody = { MessageGroupId?: string; MessageDeduplicationId?: string };
type SetResult = { record: { MessageId: string } };

/** The parts of local-aws-sqs's Queue this patch wraps. */
export type DedupQueue = {
  FifoQueue: boolean;
  DeduplicationScope?: string;
  setRecord: (body: SendBody, messageId?: string) => SetResult;
  newRecord: (record: unknown, delaySeconds?: number) => unknown;
};

/** Makes one FIFO queue of a local-aws-sqs server deduplicate for 5 minutes, as SQS does. */
export function deduplicateForInterval(queue: DedupQueue, now: () => number = Date.now): void {
  if (!queue.FifoQueue) return;
  const sent = new Map<string, { messageId: string; at: number }>();
  const setRecord = queue.setRecord;
  queue.setRecord = (body, messageId) => {
    const dedupId = body.MessageDeduplicationId;
    if (dedupId === undefined) return setRecord(body, messageId);
    const key = queue.DeduplicationScope === "messageGroup" ? `${body.MessageGroupId}\n${dedupId}` : dedupId;
    // Oldest first (a Map keeps insertion order): stop at the first id still within its interval.
    for (const [k, entry] of sent) {
      if (now() - entry.at < deduplicationIntervalMs) break;
      sent.delete(k);
    }
    const first = sent.get(key);
    if (!first) {
      const result = setRecord(body, messageId);
      sent.set(key, { messageId: result.record.MessageId, at: now() });
      return result;
    }
    // The package builds its answer as for a new message; only the enqueueing is skipped.
    const newRecord = queue.newRecord;
    queue.newRecord = (record) => ({ visible: false, delayed: false, record });
    try {
      const result = setRecord(body, messageId);
      result.record.MessageId = first.messageId;
      return result;
    } finally {
      queue.newRecord = newRecord;
    }
  };
}
