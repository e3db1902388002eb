/**
 * local-aws-sqs 2.0.2 hands out a FIFO message while an earlier message of the same
 * message group is still in flight: its receive loop checks only each message's own
 * visibility. SQS never does that (a group stays locked while a message of it is in
 * flight), and roomcast's per-room order rests on it. This restores the rule on the
 * server's own records: a record reads as visible only when no earlier record of its
 * group is in flight, except records taken by the same receive (SQS returns several
 * messages of a group in one batch, in order). It relies on the package's internal
 * record shape, so the package is pinned and tests/local/sqs-mapping.test.ts checks it.
 */

/** The parts of local-aws-sqs's internal record this patch reads. */
type ServerRecord = {
  visible: boolean;
  delayed: boolean;
  record: { MessageId: string; attributes: { MessageGroupId?: string } };
};

/** The parts of local-aws-sqs's Queue this patch wraps. */
export type ServerQueue = {
  FifoQueue: boolean;
  newRecord: (record: unknown, delaySeconds?: number) => ServerRecord;
  delete(receiptHandle: string): boolean;
  clearRecords(): void;
};

type Tracked = { group: string; inFlight: boolean; takenInTick?: number; remove(): void };

/** Records of every patched queue by message id: a redrive re-creates a record with the same id. */
const trackedById = new Map<string, Tracked>();

/** Records taken by one receive pass share a tick: one synchronous run of the server's receive loop. */
let currentTick: number | undefined;
let ticks = 0;
function tick(): number {
  if (currentTick === undefined) {
    currentTick = ++ticks;
    queueMicrotask(() => (currentTick = undefined));
  }
  return currentTick;
}

/** Same decoding as local-aws-sqs: base64 of a uuid followed by JSON holding the MessageId. */
function messageIdOf(receiptHandle: string): string | undefined {
  try {
    const text = Buffer.from(receiptHandle, "base64").toString("utf8");
    return (JSON.parse(text.slice(text.indexOf("{"))) as { MessageId?: string }).MessageId;
  } catch {
    return undefined;
  }
}

/** Makes one FIFO queue of a local-aws-sqs server lock its message groups as SQS does. */
export function lockMessageGroups(queue: ServerQueue): void {
  if (!queue.FifoQueue) return;
  const groups = new Map<string, Tracked[]>();
  const byId = new Map<string, Tracked>();
  const newRecord = queue.newRecord;
  queue.newRecord = (record, delaySeconds) => {
    const entry = newRecord(record, delaySeconds);
    const id = entry.record.MessageId;
    trackedById.get(id)?.remove(); // moved here from its source queue by the redrive policy
    const group = entry.record.attributes.MessageGroupId ?? "";
    const members = groups.get(group) ?? [];
    groups.set(group, members);
    let ownVisible = entry.visible;
    const tracked: Tracked = {
      group,
      inFlight: !ownVisible,
      remove() {
        members.splice(members.indexOf(tracked), 1);
        if (!members.length) groups.delete(group);
        byId.delete(id);
        trackedById.delete(id);
      },
    };
    members.push(tracked);
    byId.set(id, tracked);
    trackedById.set(id, tracked);
    Object.defineProperty(entry, "visible", {
      get() {
        if (!ownVisible) return false;
        for (const earlier of members) {
          if (earlier === tracked) return true;
          if (earlier.inFlight && earlier.takenInTick !== currentTick) return false;
        }
        return true;
      },
      set(value: boolean) {
        ownVisible = value;
        tracked.inFlight = !value;
        if (!value) tracked.takenInTick = tick();
      },
    });
    return entry;
  };
  const remove = queue.delete.bind(queue);
  queue.delete = (receiptHandle) => {
    const deleted = remove(receiptHandle);
    const id = messageIdOf(receiptHandle);
    if (deleted && id) byId.get(id)?.remove();
    return deleted;
  };
  const clearRecords = queue.clearRecords.bind(queue);
  queue.clearRecords = () => {
    for (const tracked of [...byId.values()]) tracked.remove();
    clearRecords();
  };
}
