import type { Message } from "../../model/store";
import type { Frame } from "./ws-client";

/**
 * What a storm test saw, on one logical clock. Every client runs in this one
 * process, so the event loop totally orders the observations: a tick taken
 * after a reply arrived is later than the server's write behind that reply.
 */
export type SendRecord = {
  sender: string;
  room: string;
  text: string;
  clientId: string;
  /** Tick just before the frame went out. */
  sentAt: number;
  /** Tick once the ack or error frame was seen. */
  doneAt?: number;
  /** From the ack. */
  id?: string;
  /** The error frame's code. */
  error?: string;
};

/** A client's membership of a room as the client knows it: from its `joined` (or open) to its leave (or close). */
export type Stay = { client: string; room: string; from: number; to: number };

export type StormReport = {
  clients: number;
  sent: number;
  acked: number;
  rejected: number;
  stored: number;
  /** (client, message) pairs that must be delivered exactly once. */
  deliveriesExpected: number;
  /** Of those, how many arrived. */
  deliveriesExpectedReceived: number;
  /** Every message frame any client got, expected or not. */
  deliveriesTotal: number;
  /**
   * Message frames that arrived again at a client that already had that id. Delivery is at
   * least once: a retried post, fan-out job or stream batch repeats what went through before.
   */
  repeats: number;
  /** The faults that explain repeats: injected by the test, or logged by the stack (a failed post, batch or job). */
  faults: string[];
  /** Problems: each list must be empty. */
  lost: string[];
  storedTwice: string[];
  /** Repeats with no fault to explain them. */
  duplicates: string[];
  missing: string[];
  phantom: string[];
  echoed: string[];
  /** Stored though never acked (a fault after the write): the test decides which are allowed. */
  storedUnacked: Message[];
};

export function createLedger() {
  let clock = 0;
  const sends: SendRecord[] = [];
  const stays: Stay[] = [];
  const inboxes = new Map<string, (Frame | string)[]>();

  /** Message frames each client received, counted by id: completeness is by distinct id, more is a repeat. */
  function deliveryCounts() {
    const counts = new Map<string, Map<string, number>>();
    for (const [client, frames] of inboxes) {
      const byId = new Map<string, number>();
      for (const frame of frames) {
        if (typeof frame !== "object" || frame.type !== "message") continue;
        byId.set(frame.id as string, (byId.get(frame.id as string) ?? 0) + 1);
      }
      counts.set(client, byId);
    }
    return counts;
  }

  /**
   * Who must have received what: every client but the sender whose stay in the
   * room began before the message was sent and lasted past the storm's last ack.
   * The ack means stored, not delivered, so a client that left right after an ack
   * may have left before the fan-out reached it; one that stayed must have it.
   */
  function expectedDeliveries(): Set<string> {
    const expected = new Set<string>();
    const lastAck = Math.max(0, ...sends.map((s) => s.doneAt ?? 0));
    for (const send of sends) {
      if (!send.id) continue;
      for (const stay of stays) {
        if (
          stay.room === send.room &&
          stay.client !== send.sender &&
          stay.from < send.sentAt &&
          lastAck < stay.to
        )
          expected.add(pair(stay.client, send.id));
      }
    }
    return expected;
  }

  return {
    sends,
    stays,
    tick: () => ++clock,
    /** Counts the message frames of this client (its `frames`, appended as they arrive). */
    watch(client: string, frames: (Frame | string)[]) {
      inboxes.set(client, frames);
    },

    /**
     * Compares what was acked and delivered with `stored`, every stored message of the
     * rooms involved. Every expected (client, id) must arrive at least once. A repeat is
     * counted, and is a problem only when no fault explains it: `faults` lists what the test
     * injected and what the stack logged (tests/support/storm-stack.ts).
     */
    verify(stored: Message[], faults: readonly string[] = []): StormReport {
      const storedIds = new Set(stored.map((m) => m.id));
      const acked = sends.filter((s) => s.id);
      const ackedIds = new Set(acked.map((s) => s.id!));
      const senderOf = new Map(stored.map((m) => [m.id, m.from]));
      const counts = deliveryCounts();
      const expected = expectedDeliveries();
      const report: StormReport = {
        clients: inboxes.size,
        sent: sends.length,
        acked: acked.length,
        rejected: sends.filter((s) => s.error).length,
        stored: stored.length,
        deliveriesExpected: expected.size,
        deliveriesExpectedReceived: 0,
        deliveriesTotal: 0,
        repeats: 0,
        faults: [...faults],
        lost: acked.filter((s) => !storedIds.has(s.id!)).map((s) => `${s.text} (${s.id})`),
        storedTwice: stored.filter((m, i) => stored.findIndex((o) => o.id === m.id) !== i).map((m) => m.id),
        duplicates: [],
        missing: [],
        phantom: [],
        echoed: [],
        storedUnacked: stored.filter((m) => !ackedIds.has(m.id)),
      };
      for (const [client, byId] of counts) {
        for (const [id, count] of byId) {
          report.deliveriesTotal += count;
          report.repeats += count - 1;
          if (count > 1 && !faults.length) report.duplicates.push(`${client} got ${id} ${count} times`);
          if (!storedIds.has(id)) report.phantom.push(`${client} got ${id}, which is not stored`);
          if (senderOf.get(id) === client) report.echoed.push(`${client} got its own ${id}`);
        }
      }
      for (const key of expected) {
        const [client, id] = key.split("\u0000");
        if (counts.get(client)?.get(id)) report.deliveriesExpectedReceived++;
        else report.missing.push(`${client} never got ${id}`);
      }
      return report;
    },
  };
}

export type Ledger = ReturnType<typeof createLedger>;

const pair = (client: string, id: string) => `${client}\u0000${id}`;

/** The figures of a report as one line, for the test's output. */
export function figures(label: string, report: StormReport, extra: string[] = []): string {
  const n = (value: number) => value.toLocaleString("en-US");
  return [
    `${label}: ${n(report.clients)} clients`,
    `${n(report.sent)} sent`,
    `${n(report.acked)} acked`,
    `${n(report.rejected)} rejected`,
    `${n(report.stored)} stored`,
    `${n(report.deliveriesExpected)} deliveries expected`,
    `${n(report.deliveriesExpectedReceived)} received`,
    `${n(report.deliveriesTotal)} delivered in all`,
    `${n(report.repeats)} repeats (after ${n(report.faults.length)} faults${report.faults.length ? `: ${summary(report.faults)}` : ""})`,
    ...extra,
  ].join(", ");
}

/** "post failed ×3, stream record failed" */
function summary(faults: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const fault of faults) counts.set(fault, (counts.get(fault) ?? 0) + 1);
  return [...counts].map(([fault, count]) => (count > 1 ? `${fault} ×${count}` : fault)).join(", ");
}

/** The report's problem lists, for one `toEqual` that shows them all when it fails. */
export function problems(report: StormReport) {
  const { lost, storedTwice, duplicates, missing, phantom, echoed } = report;
  return { lost, storedTwice, duplicates, missing, phantom, echoed };
}

export const noProblems = { lost: [], storedTwice: [], duplicates: [], missing: [], phantom: [], echoed: [] };
