/**
 * roomcast's SQS queues, for the local stack now and for the Pulumi program later
 * (this module belongs in a shared place such as model/, next to the table definition).
 * Names are `<prefix>-<suffix>`, plus `.fifo` for FIFO queues as SQS requires.
 */
export const queueDefinitions = {
  /** Fan-out jobs, one per slice of a large room: FIFO so each slice keeps the room's order. */
  fanout: {
    suffix: "fanout",
    fifo: true,
    /** Must be at least the fan-out function's timeout (AWS refuses the mapping otherwise). */
    visibilityTimeoutSeconds: 60,
    /** Receives before SQS moves a job to the dead-letter queue. */
    maxReceiveCount: 5,
    deadLetter: "fanoutDeadLetter",
  },
  /** Poison fan-out jobs; a FIFO queue's dead-letter queue must be FIFO too. */
  fanoutDeadLetter: { suffix: "fanout-dlq", fifo: true, visibilityTimeoutSeconds: 30 },
  /** The stream mapping's on-failure destination: one message per batch that ran out of retries. */
  streamDeadLetter: { suffix: "stream-dlq", fifo: false, visibilityTimeoutSeconds: 30 },
} as const;

export type QueueKey = keyof typeof queueDefinitions;

export function queueName(prefix: string, key: QueueKey): string {
  const def = queueDefinitions[key];
  return `${prefix}-${def.suffix}${def.fifo ? ".fifo" : ""}`;
}
