/**
 * Benchmark 7: many small rooms. R rooms of 10, every function at its
 * Lambda's CPU share (small-rooms.ts), an open-loop offered load stepped up until
 * delivery falls behind: the sustainable rate S, against the tutorial's design in
 * the same run and against the rate the API itself stores on this machine.
 */
import { loadavg } from "node:os";
import type { Benchmark } from "./lib/benchmark";
import { lambdaMbPerVcpu } from "./lib/cpu-cap";
import type { Invocation } from "./lib/lambda-process";
import { count, ms } from "./lib/format";
import type { Table } from "./lib/markdown";
import { median, percentile } from "./lib/stats";
import { lineChartSvg } from "./lib/svg-chart";
import {
  designNames,
  owedPerMessage,
  smallRoomShape,
  startSmallRoomsRig,
  type Design,
  type Sent,
} from "./lib/small-rooms";

/** The criteria of "keeps up": per window, deliveries made ÷ owed; over the step, the lag p99. */
const keepUp = { madeOverOwed: 0.99, lagP99Ms: 1000, graceMs: 1000 };
/**
 * The API as one gateway handing each request to a route container of its own, as Lambda does.
 * Not 2 capped processes each running all their requests at once: there, near the API's rate,
 * every request got a sliver of a share, and steps that kept up repeated deliveries with no fault
 * (9 in one run on 2026-12-04), each 0.25-1.8 s after the first copy, as when a post the fast
 * path's cap ended had arrived after all and its retry job posted it again.
 */
const routeContainers = 8;

type Step = {
  rooms: number;
  design: Design;
  rate: number;
  messages: number;
  offeredSeconds: number;
  unacked: number;
  ackP50?: number;
  deliveryP50: number;
  deliveryP99: number;
  madeOverOwed: number;
  worstWindow: number;
  lagP99: number;
  /** From the last ack (the last send, for the tutorial) to the last delivery. */
  lagAfterLast: number;
  repeats: number;
  keepsUp: boolean;
  /** roomcast: the stream worker's (the safety net's) time in invocations, and its CPU in them, over the step. */
  streamBusy?: { inInvocations: number; cpu: number };
};

const percent = (share: number) => `${(share * 100).toFixed(1)} %`;
const p = (values: number[], q: number) => (values.length ? percentile(values, q) : NaN);

/** Reads a step's messages: what they owed, what arrived and when, window by window. */
function analyse(
  rooms: number,
  design: Design,
  rate: number,
  batch: Sent[],
  offeredSeconds: number,
  windowSeconds: number,
): Step {
  const owed = owedPerMessage[design];
  // The moment delivery is owed from: the ack (stored), or the send for the tutorial, which acks nothing.
  const owedFrom = (m: Sent) => m.ackAt ?? m.sentAt;
  const unacked = design === "roomcast" ? batch.filter((m) => m.ackAt === undefined).length : 0;
  const arrivals = batch.flatMap((m) => [...m.arrivals.values()].map((at) => ({ m, at })));
  const start = Math.min(...batch.map((m) => m.sentAt));
  const windows = new Map<number, { owed: number; made: number }>();
  for (const m of batch) {
    const w = Math.floor((owedFrom(m) - start) / (windowSeconds * 1000));
    const end = start + (w + 1) * windowSeconds * 1000 + keepUp.graceMs;
    const tally = windows.get(w) ?? { owed: 0, made: 0 };
    tally.owed += owed;
    tally.made += [...m.arrivals.values()].filter((at) => at <= end).length;
    windows.set(w, tally);
  }
  const worstWindow = Math.min(...[...windows.values()].map((t) => t.made / t.owed));
  const lags = arrivals.map(({ m, at }) => at - owedFrom(m));
  const lastOwed = Math.max(...batch.map(owedFrom));
  const lastArrival = Math.max(0, ...arrivals.map(({ at }) => at));
  const step: Step = {
    rooms,
    design,
    rate,
    messages: batch.length,
    offeredSeconds,
    unacked,
    ackP50:
      design === "roomcast"
        ? median(batch.filter((m) => m.ackAt).map((m) => m.ackAt! - m.sentAt))
        : undefined,
    deliveryP50: p(
      arrivals.map(({ m, at }) => at - m.sentAt),
      50,
    ),
    deliveryP99: p(
      arrivals.map(({ m, at }) => at - m.sentAt),
      99,
    ),
    madeOverOwed: arrivals.length / (batch.length * owed),
    worstWindow,
    lagP99: p(lags, 99),
    lagAfterLast: lastArrival - lastOwed,
    repeats: batch.reduce((total, m) => total + m.repeatGapsMs.length, 0),
    keepsUp: false,
  };
  step.keepsUp = unacked === 0 && worstWindow >= keepUp.madeOverOwed && step.lagP99 <= keepUp.lagP99Ms;
  return step;
}

export const manySmallRooms: Benchmark = {
  name: "many-small-rooms",
  title: "Many small rooms: R rooms of 10 at the Lambda CPU share, open-loop load stepped up",
  async run({ quick, progress, dynamodb }) {
    const roomCounts = quick ? [10, 100] : [10, 100, 1000];
    // Offered rates as shares of what the API stores on this machine (measured first, per R): S ≥ that is the aim.
    const shares = quick ? [0.25, 0.5, 1, 2] : [0.125, 0.25, 0.5, 1, 1.5, 2, 3];
    const stepSeconds = quick ? 10 : 60;
    const windowSeconds = quick ? 5 : 10;
    const drainMs = 30_000;
    const storeSeconds = quick ? 5 : 20;
    const loadBefore = loadavg().map((l) => l.toFixed(2));
    const steps: Step[] = [];
    const storeRates = new Map<number, number>();
    const capNotes = new Set<string>();
    const failures: string[] = [];
    const unsettled: string[] = [];

    for (const rooms of roomCounts) {
      // A DynamoDB Local per R: the stream records of R = 10's steps likely slowed the API itself (a
      // full run then stored 5 messages/s at R = 100; a quick run, whose steps write far less, 23.6).
      const endpoint = await dynamodb({ fresh: true });
      const rig = await startSmallRoomsRig({
        dynamodbEndpoint: endpoint,
        rooms,
        apiContainers: 1,
        routeContainers,
        progress,
      });
      rig.capNotes.forEach((note) => capNotes.add(note));
      try {
        progress(`R=${rooms}: the API's own storing rate (${storeSeconds} s, 32 in flight)`);
        const storeRate = await rig.storeRate(storeSeconds, 32);
        storeRates.set(rooms, storeRate);
        const rates = shares.map((share) => Math.max(1, Math.round(share * storeRate * 10) / 10));
        if (!(await rig.settle(180_000))) unsettled.push(`R=${rooms} after the storing-rate run`);
        const active = new Set<Design>(["roomcast", "tutorial"]);
        const all: { design: Design; batch: Sent[] }[] = [];
        for (const rate of rates) {
          for (const design of [...active]) {
            progress(`R=${rooms}: ${design} at ${rate} messages/s for ${stepSeconds} s`);
            const invocationsBefore = rig.invocations.length;
            const { batch, offeredSeconds } = await rig.offer(design, rate, stepSeconds);
            await rig.drain(design, batch, drainMs);
            const step = analyse(rooms, design, rate, batch, offeredSeconds, windowSeconds);
            if (design === "roomcast")
              step.streamBusy = streamBusy(rig.invocations.slice(invocationsBefore), batch);
            steps.push(step);
            all.push({ design, batch });
            if (step.keepsUp && step.repeats > 0) {
              const gaps = batch.flatMap((m) => m.repeatGapsMs).sort((a, b) => a - b);
              failures.push(
                `many-small-rooms R=${rooms} ${design} at ${rate}/s: ${step.repeats} repeats with no fault ` +
                  `(each ${gaps.map(ms).join(", ")} ms after its recipient's first copy)`,
              );
            }
            if (!step.keepsUp) active.delete(design);
            if (!(await rig.settle(180_000))) unsettled.push(`R=${rooms} ${design} after ${rate}/s`);
          }
          if (active.size === 0) break;
        }
        // Lost: still missing once the stream and the queues have settled.
        if (await rig.settle(180_000)) {
          for (const { design, batch } of all) {
            const lost = batch.reduce((n, m) => n + Math.max(0, owedPerMessage[design] - m.arrivals.size), 0);
            if (lost > 0) failures.push(`many-small-rooms R=${rooms} ${design}: ${lost} deliveries lost`);
          }
        } else unsettled.push(`R=${rooms} at the end`);
      } finally {
        await rig.stop();
      }
    }
    return report({
      steps,
      storeRates,
      roomCounts,
      shares,
      capNotes: [...capNotes],
      quick,
      stepSeconds,
      windowSeconds,
      drainMs,
      storeSeconds,
      unsettled,
      loadBefore: loadBefore.join(" "),
      loadAfter: loadavg()
        .map((l) => l.toFixed(2))
        .join(" "),
      failures,
    });
  },
};

/**
 * The share of a step the stream worker spent in invocations: its one lane per shard
 * (ParallelizationFactor 1) keeps up while this stays well under 1.
 */
function streamBusy(invocations: Invocation[], batch: Sent[]) {
  const stream = invocations.filter((i) => i.kind === "stream");
  const from = Math.min(...batch.map((m) => m.sentAt));
  const span = Math.max(from + 1, ...stream.map((i) => i.endedAt)) - from;
  return {
    inInvocations: stream.reduce((total, i) => total + (i.endedAt - i.startedAt), 0) / span,
    cpu: stream.reduce((total, i) => total + i.cpuMs, 0) / span,
  };
}

/** The highest rate that kept up, with every lower rate keeping up too. */
function sustainable(steps: Step[], rooms: number, design: Design) {
  const mine = steps.filter((s) => s.rooms === rooms && s.design === design).sort((a, b) => a.rate - b.rate);
  const firstMiss = mine.findIndex((s) => !s.keepsUp);
  if (firstMiss === 0) return `< ${mine[0].rate}`;
  const last = firstMiss < 0 ? mine.at(-1) : mine[firstMiss - 1];
  return firstMiss < 0 ? `≥ ${last!.rate}` : String(last!.rate);
}

function report(input: {
  steps: Step[];
  storeRates: Map<number, number>;
  roomCounts: number[];
  shares: number[];
  capNotes: string[];
  quick: boolean;
  stepSeconds: number;
  windowSeconds: number;
  drainMs: number;
  storeSeconds: number;
  unsettled: string[];
  loadBefore: string;
  loadAfter: string;
  failures: string[];
}) {
  const { steps, storeRates, roomCounts } = input;
  const cell = (value: number | undefined) =>
    value === undefined || !Number.isFinite(value) ? "—" : ms(value);
  const stepsTable: Table = {
    title: `Per step (${input.stepSeconds} s of offered load, windows of ${input.windowSeconds} s), times in ms from the send`,
    columns: [
      { label: "R" },
      { label: "design", align: "left" },
      { label: "offered / s" },
      { label: "messages" },
      { label: "unacked" },
      { label: "ack p50" },
      { label: "delivery p50 / p99" },
      { label: "made ÷ owed (all / worst window)" },
      { label: "lag p99" },
      { label: "lag after the last ack" },
      { label: "repeats" },
      { label: "keeps up" },
      { label: "stream worker: in invocations / CPU (of one core)" },
    ],
    rows: steps.map((s) => [
      count(s.rooms),
      designNames[s.design],
      count(s.rate),
      count(s.messages),
      s.design === "roomcast" ? String(s.unacked) : "— (no ack)",
      cell(s.ackP50),
      `${cell(s.deliveryP50)} / ${cell(s.deliveryP99)}`,
      `${s.madeOverOwed.toFixed(3)} / ${s.worstWindow.toFixed(3)}`,
      cell(s.lagP99),
      cell(s.lagAfterLast),
      String(s.repeats),
      s.keepsUp ? "yes" : "no",
      s.streamBusy === undefined
        ? "—"
        : `${percent(s.streamBusy.inInvocations)} / ${percent(s.streamBusy.cpu)}`,
    ]),
  };
  const summary: Table = {
    title: "Sustainable rate S (messages/s) and the rate the API stores on this machine",
    columns: [
      { label: "R" },
      { label: "API stores / s (closed loop)" },
      { label: "S roomcast" },
      { label: "S tutorial" },
    ],
    rows: roomCounts.map((rooms) => [
      count(rooms),
      count(storeRates.get(rooms) ?? NaN),
      sustainable(steps, rooms, "roomcast"),
      sustainable(steps, rooms, "tutorial"),
    ]),
  };
  const windowNote = input.quick
    ? `Quick run: ${input.stepSeconds} s steps and ${input.windowSeconds} s windows instead of 60 s and 10 s, R up to ${Math.max(...roomCounts)}.`
    : undefined;
  return {
    method:
      `R rooms of ${smallRoomShape.members}: in each, one real \`ws\` sender (one sender connection per 20 rooms) and 9 members ` +
      `written straight to the table, counted at a Management API stand-in in another process (+${smallRoomShape.latencyMs} ms a post) ` +
      `that records every arrival and forwards calls for real connections to their gateway. Each function at its Lambda's CPU share ` +
      `(cgroup v1 quota of memory/1 769 of a core): the API as one gateway, uncapped as API Gateway is not the function's CPU, handing each ` +
      `request (both designs') to a free one of ${routeContainers} route containers of ${smallRoomShape.apiMemoryMb} MB (Lambda runs ` +
      `concurrent requests in containers of their own; requests wait at the gateway for a free one), the stream worker at ${smallRoomShape.streamMemoryMb} MB, the fan-out pool ${smallRoomShape.pool.poolSize} × ` +
      `${smallRoomShape.pool.fanoutMemoryMb} MB, as benchmark 6. The tutorial's design gets one connections table per room (it has no ` +
      `rooms: one deployment per room) with the same 9 recipients and an id standing for the sender, which it posts to as well ` +
      `(10 owed per message; roomcast owes 9). Each step offers a rate open loop (messages sent on a clock, round robin over the rooms, ` +
      `whatever the acks do) for ${input.stepSeconds} s, at ${input.shares.map((x) => `×${x}`).join(", ")} the API's storing rate, then waits up to ${input.drainMs / 1000} s for the deliveries and for the stack ` +
      `to settle before the next; the designs alternate at each rate, and a design stops at its first step that does not keep up. ` +
      `Keeps up: every window's deliveries made ÷ owed ≥ ${keepUp.madeOverOwed} (a window's messages by their ack time, or send time ` +
      `for the tutorial; deliveries counted up to ${keepUp.graceMs / 1000} s after the window ends), lag p99 (ack → delivery) ≤ ` +
      `${keepUp.lagP99Ms / 1000} s, every message acked. The API's storing rate: 32 messages in flight, each resent as soon as its ` +
      `ack returns, for ${input.storeSeconds} s.`,
    tables: [summary, stepsTable],
    chart: lineChartSvg({
      title: "Delivery p99 (ms from the send) by offered rate",
      xLabel: "messages offered per second",
      yLabel: "delivery p99 ms",
      series: roomCounts.flatMap((rooms) =>
        (["roomcast", "tutorial"] as Design[]).map((design) => ({
          name: `${design}, R=${count(rooms)}`,
          points: steps
            .filter((s) => s.rooms === rooms && s.design === design && Number.isFinite(s.deliveryP99))
            .map((s): [number, number] => [s.rate, s.deliveryP99]),
        })),
      ),
    }),
    findings: [
      `CPU caps: ${input.capNotes.join("; ")}.`,
      `Load average (1/5/15 min) ${input.loadBefore} before, ${input.loadAfter} after: other agents' work shares the 2 cores, so ` +
        `every figure here is lower than on an idle machine; compare the designs within the run.`,
      ...roomCounts.map(
        (rooms) =>
          `R=${count(rooms)}: S = ${sustainable(steps, rooms, "roomcast")} messages/s for roomcast, ${sustainable(steps, rooms, "tutorial")} ` +
          `for the tutorial's design; the API stored ${count(storeRates.get(rooms) ?? NaN)} messages/s closed loop.`,
      ),
      // The stream's ParallelizationFactor: one lane is enough while the safety net idles most of a step.
      ...roomCounts.flatMap((rooms) => {
        const busiest = steps
          .filter((s) => s.rooms === rooms && s.streamBusy !== undefined)
          .sort((a, b) => b.streamBusy!.inInvocations - a.streamBusy!.inInvocations)[0];
        return busiest
          ? [
              `R=${count(rooms)}: the stream worker (the safety net, one lane: ParallelizationFactor 1) was in invocations at most ` +
                `${percent(busiest.streamBusy!.inInvocations)} of a step (at ${count(busiest.rate)} messages/s offered), using ` +
                `${percent(busiest.streamBusy!.cpu)} of a core (its cap: ${percent(smallRoomShape.streamMemoryMb / lambdaMbPerVcpu)}).`,
            ]
          : [];
      }),
      // The fast path: a small room is posted to before the ack, so delivery cannot trail storage.
      ...roomCounts.flatMap((rooms) => {
        const top = steps
          .filter((s) => s.rooms === rooms && s.design === "roomcast")
          .sort((a, b) => b.rate - a.rate)[0];
        return top?.ackP50 === undefined
          ? []
          : [
              `R=${count(rooms)}: roomcast's routes post to a small room before they ack, so its lag (ack → delivery) is ` +
                `negative and delivery keeps up with whatever is stored; past the API's storing rate it is the acks that slow ` +
                `down (ack p50 ${ms(top.ackP50)} ms at ${count(top.rate)} messages/s offered).`,
            ];
      }),
      ...(input.unsettled.length
        ? [
            `The stack had not settled within 180 s at: ${input.unsettled.join("; ")} (the next step started on a backlog).`,
          ]
        : []),
      ...(windowNote ? [windowNote] : []),
    ],
    failures: input.failures,
  };
}
