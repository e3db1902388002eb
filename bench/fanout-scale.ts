/**
 * Benchmark 6 (issue 11): one message to a room of N = 10 … 50 000 with the
 * handler side capped at a Lambda's CPU share and +20 ms per Management API call
 * in another process. roomcast (ack = stored, stream worker, FIFO-queued slices)
 * vs the tutorial's and the Go port's `sendmessage` under the same cap.
 */
import { randomBytes } from "node:crypto";
import { WebSocket } from "ws";
import { configEnv, defaultConfig } from "../handlers/config";
import { awsStyleId } from "../local/events";
import { startSqsServer } from "../local/sqs-server";
import { createDocumentClient, createDynamoClient } from "../model/client";
import { ensureTable } from "../model/create-table";
import { createChatService } from "../model/service";
import { roomShard } from "../model/store";
import { tutorialConnections } from "./baselines/tutorial";
import type { Benchmark } from "./lib/benchmark";
import { forkCappedStack, type CappedStackOptions } from "./lib/capped-stack";
import { startCountingManagementApi, nowMs } from "./lib/counting-management-api";
import { capCpu, lambdaMbPerVcpu } from "./lib/cpu-cap";
import { batchWriteAll, dropTables } from "./lib/dynamodb";
import { count, ms, times } from "./lib/format";
import type { Table } from "./lib/markdown";
import { median, percentile } from "./lib/stats";
import { barChartSvg } from "./lib/svg-chart";
import { nextFrame, openClients } from "./lib/ws-clients";

const latencyMs = 20;
const routeMemoryMb = 256;
const budgetPostsPerSecond = 10_000;
type Design = "roomcast" | "tutorial" | "goPort";
const designNames: Record<Design, string> = {
  roomcast: "roomcast",
  tutorial: "baseline: tutorial (Scan + all at once)",
  goPort: "baseline: Go port (Scan + one at a time)",
};

type Run = {
  design: Design;
  memoryMb: number;
  n: number;
  acks: number[];
  lasts: number[];
  cpuMsPerDelivery: number;
  gbSecondsPer1000: number;
  apiMessagesPer1000: number;
  longestBroadcastMs: number;
};

const roomOf = (prefix: string, n: number) => `${prefix}-${n}`;

export const fanoutScale: Benchmark = {
  name: "fanout-scale",
  title: "Fan-out at scale: a Lambda's CPU share, +20 ms per post, N = 10 … 50 000",
  async run({ quick, progress, dynamodb }) {
    const sizes = quick ? [10, 100, 1000] : [10, 100, 1000, 10_000, 50_000];
    const thresholdSizes = [50, 100, 200, 400];
    const messagesFor = (n: number) => (quick ? 3 : n >= 50_000 ? 3 : 5);
    const baselineMax = 1000;
    const goPortMax = quick ? 100 : 1000;
    const endpoint = await dynamodb();
    const client = createDynamoClient(endpoint);
    const doc = createDocumentClient(client);
    const suffix = randomBytes(4).toString("hex");
    const tableName = `bench-scale-${suffix}`;
    const expiresAt = Math.floor(Date.now() / 1000) + defaultConfig.connectionTtlSeconds;
    const { membership, room } = createChatService(doc, tableName).entities;
    const api = startCountingManagementApi(latencyMs);
    const sqs = await startSqsServer();
    const tutorialTables: string[] = [];
    const capNotes = new Set<string>();

    /** A room of n members written straight to the table (before any stream reader starts: no join storm). */
    async function seedRoom(name: string, n: number) {
      const ids = Array.from({ length: n }, () => awsStyleId());
      const items = ids.map(
        (connectionId) =>
          membership.put({ room: name, connectionId, name: "member", expiresAt }).params().Item,
      );
      items.push(room.put({ shard: roomShard(name), room: name, members: n }).params().Item);
      await batchWriteAll(doc, tableName, items);
      return ids;
    }

    try {
      await ensureTable(client, tableName);
      const baselines: CappedStackOptions["baselines"] = [];
      for (const n of sizes) {
        progress(`seeding a room of N=${count(n)}`);
        const ids = await seedRoom(roomOf("scale", n), n);
        if (n <= baselineMax) {
          const table = `bench-scale-connections-${n}-${suffix}`;
          const connections = tutorialConnections(client, table);
          await connections.create();
          tutorialTables.push(table);
          await batchWriteAll(
            doc,
            table,
            ids.map((connectionId) => ({ connectionId })),
          );
          baselines.push({ action: `baseline-tutorial-${n}`, table, posting: "all at once" });
          baselines.push({ action: `baseline-go-port-${n}`, table, posting: "one at a time" });
        }
      }
      for (const n of thresholdSizes) {
        progress(`seeding threshold rooms of N=${n}`);
        await seedRoom(roomOf("inline", n), n);
        await seedRoom(roomOf("queued", n), n);
      }
      const managementEndpoint = await api.url;

      /** One handler process under a cap, and the measurements of `plan` on it. */
      async function withStack<T>(
        label: string,
        memoryMb: number,
        env: Record<string, string>,
        plan: (
          send: (design: Design, roomName: string, n: number, messages: number) => Promise<Run>,
        ) => Promise<T>,
      ): Promise<T> {
        progress(`${label}: starting the handler process (${memoryMb} MB share)`);
        const stack = forkCappedStack({
          dynamodbEndpoint: endpoint,
          sqsEndpoint: sqs.endpoint,
          tableName,
          managementEndpoint,
          env,
          baselines,
        });
        const cap = capCpu(stack.pid, memoryMb, `roomcast-bench-${process.pid}-${memoryMb}-${suffix}`);
        capNotes.add(
          cap.applied
            ? `cgroup v1 CPU quota ${((memoryMb / lambdaMbPerVcpu) * 100).toFixed(1)} % of one core (${memoryMb} MB)`
            : `NOT capped at ${memoryMb} MB (${cap.reason})`,
        );
        const sockets: WebSocket[] = [];
        try {
          const wsUrl = await stack.wsUrl;
          const send = async (
            design: Design,
            roomName: string,
            n: number,
            messages: number,
          ): Promise<Run> => {
            const [ws] = await openClients([`${wsUrl}?name=sender&room=${roomName}`]);
            sockets.push(ws);
            await stack.settled();
            const acks: number[] = [];
            const lasts: number[] = [];
            const postsBefore = await api.total();
            let before = await stack.stats();
            for (let m = -1; m < messages; m++) {
              if (m === 0) {
                await stack.settled();
                before = await stack.stats();
              }
              progress(
                `${label}: ${design} N=${count(n)} ${m < 0 ? "warm-up" : `message ${m + 1}/${messages}`}`,
              );
              const marker = `${design}-${roomName}-${m}-${randomBytes(4).toString("hex")}`;
              const delivered = api.delivered(marker, n);
              const started = nowMs();
              if (design === "roomcast") {
                const acked = nextFrame(ws, '"type":"ack"', 600_000).then(() => nowMs());
                ws.send(JSON.stringify({ action: "sendmessage", room: roomName, message: marker }));
                const ackAt = await acked;
                if (m >= 0) acks.push(ackAt - started);
              } else {
                ws.send(
                  JSON.stringify({
                    action: `baseline-${design === "tutorial" ? "tutorial" : "go-port"}-${n}`,
                    data: marker,
                  }),
                );
              }
              const { last } = await delivered;
              if (m >= 0) lasts.push(last - started);
            }
            const after = await stack.settled();
            const posts = (await api.total()) - postsBefore;
            const deliveries = n * messages;
            // The tutorial's function runs until its last post; roomcast's, while its broadcasts run.
            const busyMs = design === "roomcast" ? after.broadcastMs : lasts.reduce((a, b) => a + b, 0);
            ws.close();
            return {
              design,
              memoryMb,
              n,
              acks,
              lasts,
              cpuMsPerDelivery: (after.cpuMs - before.cpuMs) / deliveries,
              gbSecondsPer1000: (((memoryMb / 1024) * busyMs) / 1000 / deliveries) * 1000,
              apiMessagesPer1000: ((posts + 2 * (messages + 1)) / (deliveries + n)) * 1000,
              longestBroadcastMs: design === "roomcast" ? after.longestBroadcastMs : Math.max(...lasts),
            };
          };
          return await plan(send);
        } finally {
          for (const ws of sockets) ws.terminate();
          await stack.stop().catch(() => undefined);
          cap.remove();
        }
      }

      const runs: Run[] = [];
      // Locally every fan-out worker shares one deps and so one pacer of maxPostsPerSecond ÷ fanoutMaxConcurrency;
      // on AWS each of the fanoutMaxConcurrency containers has its own. Lift the local one to the stack-wide rate.
      const defaults = {
        [configEnv.maxPostsPerSecond]: String(
          defaultConfig.maxPostsPerSecond * defaultConfig.fanoutMaxConcurrency,
        ),
      };
      await withStack("256 MB", routeMemoryMb, defaults, async (send) => {
        for (const n of sizes) {
          runs.push(await send("roomcast", roomOf("scale", n), n, messagesFor(n)));
          if (n <= baselineMax) runs.push(await send("tutorial", roomOf("scale", n), n, messagesFor(n)));
          if (n <= goPortMax)
            runs.push(await send("goPort", roomOf("scale", n), n, n >= 1000 ? 1 : messagesFor(n)));
        }
      });
      await withStack("1024 MB", 1024, defaults, async (send) => {
        for (const n of sizes) runs.push(await send("roomcast", roomOf("scale", n), n, messagesFor(n)));
      });
      const threshold: { n: number; inline: Run; queued: Run }[] = [];
      const inlineRuns = await withStack(
        "threshold, inline",
        routeMemoryMb,
        { ...defaults, [configEnv.inlineFanoutMax]: "1000000" },
        async (send) => {
          const out: Run[] = [];
          for (const n of thresholdSizes) out.push(await send("roomcast", roomOf("inline", n), n, 3));
          return out;
        },
      );
      const queuedRuns = await withStack(
        "threshold, queued",
        routeMemoryMb,
        { ...defaults, [configEnv.inlineFanoutMax]: "1" },
        async (send) => {
          const out: Run[] = [];
          for (const n of thresholdSizes) out.push(await send("roomcast", roomOf("queued", n), n, 3));
          return out;
        },
      );
      thresholdSizes.forEach((n, i) => threshold.push({ n, inline: inlineRuns[i], queued: queuedRuns[i] }));
      return report(runs, threshold, sizes, [...capNotes], quick);
    } finally {
      api.stop();
      await sqs.stop();
      await dropTables(client, [tableName, ...tutorialTables]).catch(() => undefined);
      client.destroy();
    }
  },
};

const p50 = (values: number[]) => (values.length ? median(values) : NaN);
const p95 = (values: number[]) => (values.length ? percentile(values, 95) : NaN);
const cell = (value: number) => (Number.isFinite(value) ? ms(value) : "—");

function report(
  runs: Run[],
  threshold: { n: number; inline: Run; queued: Run }[],
  sizes: number[],
  capNotes: string[],
  quick: boolean,
) {
  const find = (design: Design, memoryMb: number, n: number) =>
    runs.find((r) => r.design === design && r.memoryMb === memoryMb && r.n === n);
  const main: Table = {
    title: `Per design and N, +${latencyMs} ms per post, handler process at the ${routeMemoryMb} MB share (roomcast also at 1024 MB)`,
    columns: [
      { label: "design", align: "left" },
      { label: "share" },
      { label: "N" },
      { label: "msgs" },
      { label: "ack p50 ms" },
      { label: "last delivery p50 / p95 ms" },
      { label: "CPU ms / delivery" },
      { label: "GB-s / 1k deliveries" },
      { label: "API GW msgs / 1k deliveries" },
      { label: "longest function ms" },
      { label: "budget floor s" },
    ],
    rows: runs.map((r) => [
      designNames[r.design],
      `${r.memoryMb} MB`,
      count(r.n),
      String(r.lasts.length),
      r.acks.length ? ms(p50(r.acks)) : "— (no ack)",
      `${cell(p50(r.lasts))} / ${cell(p95(r.lasts))}`,
      r.cpuMsPerDelivery.toFixed(3),
      r.gbSecondsPer1000.toFixed(4),
      count(Math.round(r.apiMessagesPer1000)),
      ms(r.longestBroadcastMs),
      (r.n / budgetPostsPerSecond).toFixed(3),
    ]),
  };
  const thresholdTable: Table = {
    title: `Time to last delivery, inline (stream worker posts) vs queued (${defaultConfig.fanoutSlices} FIFO slices), ${routeMemoryMb} MB share, ms p50 / p95`,
    columns: [{ label: "N" }, { label: "inline" }, { label: "queued" }, { label: "inline ÷ queued" }],
    rows: threshold.map(({ n, inline, queued }) => [
      String(n),
      `${cell(p50(inline.lasts))} / ${cell(p95(inline.lasts))}`,
      `${cell(p50(queued.lasts))} / ${cell(p95(queued.lasts))}`,
      times(p50(inline.lasts), p50(queued.lasts)),
    ]),
  };
  const findings: string[] = [`CPU cap: ${capNotes.join("; ")}.`];
  const at = (n: number) => find("roomcast", routeMemoryMb, n);
  const [small, big] = [at(10), at(10_000)];
  if (small && big)
    findings.push(
      `Ack p50 at N=10 000 ${ms(p50(big.acks))} ms vs N=10 ${ms(p50(small.acks))} ms: ×${(p50(big.acks) / p50(small.acks)).toFixed(2)} ` +
        `(done means ≤ ×1.5: ${p50(big.acks) <= 1.5 * p50(small.acks) ? "holds" : "does NOT hold"}).`,
    );
  const thousand = at(1000);
  const tutorial1000 = find("tutorial", routeMemoryMb, 1000);
  if (thousand && tutorial1000) {
    const [r, t] = [p50(thousand.lasts), p50(tutorial1000.lasts)];
    findings.push(
      `N=1 000 at the ${routeMemoryMb} MB share: last delivery p50 ${ms(r)} ms (≤ 1 000 ms: ${r <= 1000 ? "holds" : "does NOT hold"}), ` +
        `tutorial ${ms(t)} ms, ${times(t, r)} (≥ ×2: ${t / r >= 2 ? "holds" : "does NOT hold"}).`,
    );
  }
  const fifty = at(50_000);
  if (fifty)
    findings.push(
      `N=50 000 completed; the longest single broadcast (one job's posting inside one invocation) took ${ms(fifty.longestBroadcastMs)} ms ` +
        `against half the fan-out timeout, 30 000 ms.`,
    );
  const cpu = runs.filter((r) => r.design === "roomcast" && r.n >= 1000).map((r) => r.cpuMsPerDelivery);
  if (cpu.length)
    findings.push(
      `roomcast CPU per delivery at N ≥ 1 000: ${cpu.map((c) => c.toFixed(3)).join(", ")} ms — the whole handler process ` +
        `(gateway, routes, stream and fan-out workers, SQS client) divided by deliveries (done means ≤ 0.25 ms: ` +
        `${Math.max(...cpu) <= 0.25 ? "holds" : "does NOT hold"}).`,
    );
  findings.push(
    `GB-seconds: roomcast's are memory × the time its broadcasts ran (the workers' posting time); the baselines' are memory × ` +
      `their handler's time to the last post. API Gateway messages count every post the stand-in received (presence and retries ` +
      `included) plus one message in and one out per send, per 1 000 deliveries. The budget floor is N ÷ 10 000 posts/s.`,
    `Caveat: one process holds the gateway, the routes and both workers under one cap; on AWS each concurrent fan-out worker ` +
      `gets its own share, so queued fan-out here is a pessimistic bound.` +
      (quick ? " Quick run: N up to 1 000." : ""),
  );
  const chartSizes = sizes;
  return {
    method:
      `The handler side (local gateway, routes, stream worker, fan-out worker) runs in a child process put in a cgroup v1 CPU ` +
      `quota of memory/1 769 of one core; it posts through roomcast's delivery to a counting Management API stand-in in another ` +
      `process that answers every post after +${latencyMs} ms and records when each message's posts arrive (no sockets: ` +
      `this is how N = 50 000 fits). DynamoDB Local and the SQS server run outside the cap, as the managed services do. ` +
      `Each room of N is written straight to the table before the stack starts; one real \`ws\` sender joins it and sends ` +
      `messages one after another (after a warm-up message). Ack = from send to the \`ack\` frame; last delivery = from send ` +
      `to the N-th post arriving at the stand-in. The baselines' \`sendmessage\` run as routes of the same capped process. ` +
      `The local stack runs all fan-out workers on one set of deps, so one pacer; \`MAX_POSTS_PER_SECOND\` is set to ` +
      `${defaultConfig.maxPostsPerSecond} × ${defaultConfig.fanoutMaxConcurrency} so that one pacer allows the stack-wide ` +
      `${defaultConfig.maxPostsPerSecond} posts/s that ${defaultConfig.fanoutMaxConcurrency} containers would on AWS.`,
    tables: [main, thresholdTable],
    chart: barChartSvg({
      title: `Time to last delivery p50, +${latencyMs} ms per post, ${routeMemoryMb} MB share (log scale)`,
      yLabel: "milliseconds",
      log: true,
      groups: chartSizes.map((n) => `N=${count(n)}`),
      series: (Object.keys(designNames) as Design[]).map((design) => ({
        name: designNames[design],
        values: chartSizes.map((n) => {
          const r = find(design, routeMemoryMb, n);
          return r ? p50(r.lasts) : undefined;
        }),
      })),
      format: ms,
    }),
    findings,
  };
}
