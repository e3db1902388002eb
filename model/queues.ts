/**
 * roomcast's SQS queues. This definition is the single source of truth for the Pulumi
 * queues (infra/fanout-queues.ts) and the local SQS server's (local/sqs-server.ts), as
 * model/table.ts is for the table. Names are `<prefix>-<suffix>`, plus `.fifo` for FIFO
 * queues as SQS requires.
 */
export const queueDefinitions = {
  /** Fan-out jobs, one per slice of a large room: FIFO so each slice keeps the room's order. */
  fanout: {
    suffix: "fanout",
    fifo: true,
    /** Receives before SQS moves a job to the dead-letter queue (a stack setting on AWS). */
    maxReceiveCount: 5,
    deadLetter: "fanoutDeadLetter",
  },
  /** Poison fan-out jobs; a FIFO queue's dead-letter queue must be FIFO too. */
  fanoutDeadLetter: { suffix: "fanout-dlq", fifo: true },
  /** The stream mapping's on-failure destination: one message per batch that ran out of retries. */
  streamDeadLetter: { suffix: "stream-dlq", fifo: false },
} as const;

export type QueueKey = keyof typeof queueDefinitions;

export function queueName(prefix: string, key: QueueKey): string {
  const def = queueDefinitions[key];
  return `${prefix}-${def.suffix}${def.fifo ? ".fifo" : ""}`;
}
