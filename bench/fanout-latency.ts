/**
 * Benchmark 2: how long one message takes to reach every member of a room of N,
 * on the local stack (gateway + real handlers + DynamoDB Local), against the
 * tutorial's and its Go port's `sendmessage` plugged into the same gateway, and
 * two floors; then what each delivery costs the sender in CPU, SDK vs lean.
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { ulid } from "ulid";
import { WebSocketServer, type WebSocket } from "ws";
import { configEnv, defaultConfig } from "../handlers/config";
import type { createLogger } from "../handlers/log";
import { infraDefaults } from "../infra/defaults";
import { startLocalStack } from "../local/stack";
import { createDocumentClient, createDynamoClient, localAws } from "../model/client";
import { createChatService } from "../model/service";
import { tutorialConnections, tutorialSendMessageRoute, withTutorialConnect } from "./baselines/tutorial";
import type { Benchmark } from "./lib/benchmark";
import { batchWriteAll, dropTables } from "./lib/dynamodb";
import { problemLogger } from "./lib/handler-log";
import { ms, times } from "./lib/format";
import { startManagementApiProcess } from "./lib/management-api-process";
import type { Table } from "./lib/markdown";
import { roomcastDelivery, sdkPoster } from "./lib/posters";
import type { Progress } from "./lib/progress";
import { summarize, type Summary } from "./lib/stats";
import { barChartSvg } from "./lib/svg-chart";
import { createDeliveryWatch, nextFrame, openClients } from "./lib/ws-clients";

const room = "fanout";
const tutorialAction = "baseline-tutorial";
const goPortAction = "baseline-go-port";

/**
 * Rounds of every variant run before the recorded trials: DynamoDB Local's JVM, the
 * sockets and Node's JIT warm up over the first rounds (every variant's first sends
 * were slower than its later ones), and roomcast's route, with three DynamoDB round
 * trips to the tutorial's one, feels a cold DynamoDB Local most.
 */
const warmUpRounds = 3;

/**
 * Each trial measures one message sent to an idle stack: the previous trial's work is
 * settled (the stream worker's safety net, which on AWS runs in a Lambda of its own) and
 * the container's post budget (a burst of `inlineFanoutMax`, refilled at its share of
 * `maxPostsPerSecond`) is full again, as for a room's single message.
 */
const postBudgetRefillMs = Math.ceil(
  (defaultConfig.inlineFanoutMax / (defaultConfig.maxPostsPerSecond / defaultConfig.fanoutMaxConcurrency)) *
    1000,
);

/** Rooms up to this size take a trial in well under a second: they get ×3 the trials, for a steadier median. */
const smallRoomMax = 100;

/** Go port trials expected to take this long (N × latency) run `slowTrials` times only. */
const slowGoPortMs = 4000;

const variants = {
  roomcast: "roomcast",
  tutorial: "baseline: tutorial (Scan + all at once)",
  goPort: "baseline: Go port (Scan + one at a time)",
  posts: "floor: Management API posts only",
  rawWs: "floor: raw ws broadcast",
} as const;
type VariantKey = keyof typeof variants;

/** The frame roomcast pushes, so the floors move the same bytes. */
const messageFrame = (marker: string) => ({
  type: "message",
  room,
  id: ulid(),
  from: "sender",
  text: marker,
  sentAt: new Date().toISOString(),
});

/**
 * The local stack with the baselines' routes beside roomcast's, a sender and a
 * room of recipients that grows. Each client connects through the real `$connect`
 * into a room of its own, then joins the measured room by a membership item
 * written straight to the table: joining through the gateway would tell the
 * whole room of every join (N² posts), and that setup is not what is measured.
 */
async function startStackRig(endpoint: string, latencyMs: number, logger: ReturnType<typeof createLogger>) {
  const suffix = randomBytes(4).toString("hex");
  const client = createDynamoClient(endpoint);
  const doc = createDocumentClient(client);
  const connections = tutorialConnections(client, `bench-fanout-connections-${suffix}`);
  await connections.create();
  const stack = await startLocalStack({
    port: 0,
    dynamodbEndpoint: endpoint,
    tableName: `bench-fanout-${suffix}`,
    managementLatencyMs: latencyMs,
    env: { [configEnv.rateLimitMessages]: "0" },
    logger,
    routes: (routes) => [
      // No `$disconnect`: at teardown each would tell the whole room (N² posts) and nothing is measured then.
      ...withTutorialConnect(routes, connections).filter((route) => route.key !== "$disconnect"),
      tutorialSendMessageRoute(tutorialAction, connections, "all at once", localAws),
      tutorialSendMessageRoute(goPortAction, connections, "one at a time", localAws),
    ],
  });
  const { membership } = createChatService(doc, stack.tableName).entities;
  const expiresAt = Math.floor(Date.now() / 1000) + defaultConfig.connectionTtlSeconds;
  const watch = createDeliveryWatch();
  const members = new Set<string>();
  const recipients: string[] = [];

  /** Connects clients named `names`, then makes them members of the room as `displayName`. */
  async function connectAndJoin(names: string[], displayName: string) {
    const clients = await openClients(names.map((name) => `${stack.wsUrl}?name=${name}&room=solo-${name}`));
    const fresh = (await connections.scanConnectionIds()).filter((id) => !members.has(id));
    const items = fresh.map(
      (connectionId) => membership.put({ room, connectionId, name: displayName, expiresAt }).params().Item,
    );
    await batchWriteAll(doc, stack.tableName, items);
    fresh.forEach((id) => members.add(id));
    return { clients, ids: fresh };
  }

  const [sender] = (await connectAndJoin(["sender"], "sender")).clients;
  return {
    sender,
    watch,
    recipients,
    managementEndpoint: `http://127.0.0.1:${stack.port}`,
    /** Resolves once the stack is idle and its post budget full again. */
    async idle() {
      await stack.settled();
      await new Promise((resolve) => setTimeout(resolve, postBudgetRefillMs));
    },
    async grow(size: number) {
      const names = Array.from(
        { length: size - recipients.length },
        (_, i) => `member-${recipients.length + i}`,
      );
      const { clients, ids } = await connectAndJoin(names, "member");
      clients.forEach((ws) => watch.watch(ws));
      recipients.push(...ids);
    },
    async stop() {
      await stack.stop();
      await dropTables(client, [stack.tableName, connections.tableName]);
      client.destroy();
    },
  };
}

/** The second floor: a plain `ws` server relaying a frame to every other socket, no gateway, no handlers. */
async function startRawRig() {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  await once(server, "listening");
  server.on("connection", (ws) =>
    ws.on("message", (data: Buffer) => {
      for (const peer of server.clients) if (peer !== ws) peer.send(data);
    }),
  );
  const url = `ws://127.0.0.1:${(server.address() as { port: number }).port}`;
  const [sender] = await openClients([url]);
  const watch = createDeliveryWatch();
  return {
    sender,
    watch,
    async grow(size: number) {
      const clients = await openClients(Array.from({ length: size - watch.size }, () => url));
      clients.forEach((ws) => watch.watch(ws));
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const ws of server.clients) ws.terminate();
        sender.terminate();
        server.close(() => resolve());
      }),
  };
}

type StackRig = Awaited<ReturnType<typeof startStackRig>>;
type RawRig = Awaited<ReturnType<typeof startRawRig>>;

/** Starts a broadcast; resolves with ms from the start to the last delivery, once `start`'s work is done too. */
async function timeBroadcast(
  watch: StackRig["watch"],
  marker: string,
  start: () => Promise<unknown>,
): Promise<number> {
  const delivered = watch.expect(marker);
  const started = performance.now();
  const done = start();
  const last = await delivered;
  await done;
  return last - started;
}

/** Sends `frame` and waits for the sender's own frame containing `needle`: the handler has finished. */
const sendAndAwait = (ws: WebSocket, frame: object, needle: string) => () => {
  ws.send(JSON.stringify(frame));
  return nextFrame(ws, needle);
};

function trialRunners(rig: StackRig, raw: RawRig) {
  const { fanoutConcurrency, inlineFanoutMax } = defaultConfig;
  // Sockets and concurrency as the handlers have them (handlers/deps.ts, handlers/delivery/fanout.ts).
  const { delivery } = roomcastDelivery(
    rig.managementEndpoint,
    fanoutConcurrency,
    Math.max(fanoutConcurrency, inlineFanoutMax),
  );
  const fastPath = rig.recipients.length <= inlineFanoutMax;
  return {
    // The request stores, posts (up to inlineFanoutMax recipients, all at once) and acks: timed to the last delivery.
    roomcast: (marker) =>
      timeBroadcast(
        rig.watch,
        marker,
        sendAndAwait(rig.sender, { action: "sendmessage", room, message: marker }, '"type":"ack"'),
      ),
    // The tutorial posts to the sender too: its copy marks the end of the handler.
    tutorial: (marker) =>
      timeBroadcast(
        rig.watch,
        marker,
        sendAndAwait(rig.sender, { action: tutorialAction, data: marker }, marker),
      ),
    goPort: (marker) =>
      timeBroadcast(
        rig.watch,
        marker,
        sendAndAwait(rig.sender, { action: goPortAction, data: marker }, marker),
      ),
    posts: (marker) =>
      timeBroadcast(rig.watch, marker, async () => {
        // Posted as the fast path posts a room of this size: all at once, or a bounded pool.
        const report = await delivery.broadcast(rig.recipients, JSON.stringify(messageFrame(marker)), {
          concurrency: fastPath ? rig.recipients.length : fanoutConcurrency,
        });
        if (report.delivered !== rig.recipients.length)
          throw new Error(`posts floor delivered ${report.delivered}`);
      }),
    rawWs: (marker) =>
      timeBroadcast(raw.watch, marker, async () => raw.sender.send(JSON.stringify(messageFrame(marker)))),
  } satisfies Record<VariantKey, (marker: string) => Promise<number>>;
}

type PassResult = Map<number, Map<VariantKey, number[]>>;

/** One pass over the room sizes at one Management API latency. */
async function runPass(
  endpoint: string,
  latencyMs: number,
  options: {
    sizes: number[];
    trialsAt: (size: number) => number;
    slowTrials: number;
    progress: Progress;
    label: string;
  },
): Promise<PassResult> {
  const log = problemLogger();
  const [rig, raw] = await Promise.all([startStackRig(endpoint, latencyMs, log.logger), startRawRig()]);
  const runners = trialRunners(rig, raw);
  const result: PassResult = new Map();
  try {
    for (const size of options.sizes) {
      options.progress(`${options.label}: connecting a room of N=${size}`);
      await Promise.all([rig.grow(size), raw.grow(size)]);
      const samples = new Map<VariantKey, number[]>(
        Object.keys(variants).map((key) => [key as VariantKey, []]),
      );
      // The Go port posts one at a time: with latency its trials at N=1000 take 20 s each.
      const slow = (key: VariantKey) => key === "goPort" && size * latencyMs >= slowGoPortMs;
      const keys = Object.keys(variants) as VariantKey[];
      const trials = options.trialsAt(size);
      for (let trial = -warmUpRounds; trial < trials; trial++) {
        // Trials below 0 warm up and are not recorded; the order rotates so no variant always goes first.
        const order = keys.map((_, i) => keys[(i + Math.max(trial, 0)) % keys.length]);
        for (const key of order) {
          if (slow(key) && (trial < 0 || trial >= options.slowTrials)) continue;
          options.progress(
            `${options.label}: N=${size} ${trial < 0 ? "warm-up" : `trial ${trial + 1}/${slow(key) ? options.slowTrials : trials}`} ${key}`,
          );
          await rig.idle();
          const elapsed = await runners[key](`${key}-${size}-${trial}-${randomBytes(4).toString("hex")}`);
          log.check();
          if (trial >= 0) samples.get(key)!.push(elapsed);
        }
      }
      result.set(size, samples);
    }
  } finally {
    options.progress(`${options.label}: closing ${rig.recipients.length + 1} connections`);
    await Promise.all([rig.stop(), raw.stop()]);
  }
  return result;
}

/**
 * CPU the sender spends per delivery: roomcast's delivery (PostToConnectionCommand)
 * vs the lean transport (aws4-signed keep-alive http.request), same endpoint (a
 * child process, so its CPU is not counted), same concurrency, same frame.
 */
async function measurePostCpu(trials: number, progress: Progress) {
  const latencyMs = 20;
  const posts = 1000;
  const concurrency = defaultConfig.fanoutConcurrency;
  const api = startManagementApiProcess(latencyMs);
  const endpoint = await api.url;
  const sdk = sdkPoster(endpoint, concurrency);
  const lean = roomcastDelivery(endpoint, concurrency);
  const ids = Array.from({ length: posts }, (_, i) => `conn-${String(i).padStart(10, "0")}=`);
  const json = JSON.stringify(messageFrame("x".repeat(100)));
  const transports = {
    sdk: (to: string[]) => sdk.broadcast(to, json),
    lean: async (to: string[]) => (await lean.delivery.broadcast(to, json)).delivered,
  };
  const samples = {
    sdk: { cpu: [] as number[], wall: [] as number[] },
    lean: { cpu: [] as number[], wall: [] as number[] },
  };
  try {
    // Two warm-up rounds: the SDK's deep middleware stack takes a while to get optimized.
    for (let trial = -2; trial < trials; trial++) {
      for (const key of trial % 2 === 0 ? (["sdk", "lean"] as const) : (["lean", "sdk"] as const)) {
        progress(`CPU per delivery: ${key} ${trial < 0 ? "warm-up" : `trial ${trial + 1}/${trials}`}`);
        await api.clear();
        const cpu = process.cpuUsage();
        const started = performance.now();
        const delivered = await transports[key](ids);
        const wall = performance.now() - started;
        const used = process.cpuUsage(cpu);
        if (delivered !== posts) throw new Error(`${key} delivered ${delivered} of ${posts}`);
        if (trial >= 0) {
          samples[key].cpu.push((used.user + used.system) / 1000 / posts);
          samples[key].wall.push(wall);
        }
      }
    }
  } finally {
    lean.destroy();
    sdk.destroy();
    api.stop();
  }
  return {
    latencyMs,
    posts,
    concurrency,
    sdk: { cpu: summarize(samples.sdk.cpu), wall: summarize(samples.sdk.wall) },
    lean: { cpu: summarize(samples.lean.cpu), wall: summarize(samples.lean.wall) },
  };
}

function latencyTable(
  title: string,
  pass: Map<number, Map<VariantKey, Summary>>,
  trialsAt: (size: number) => number,
): Table {
  const cell = (s: Summary | undefined, size: number) =>
    s
      ? `${ms(s.median)} / ${ms(s.p95)}${s.trials < trialsAt(size) ? ` (${s.trials} trial${s.trials > 1 ? "s" : ""})` : ""}`
      : "–";
  return {
    title,
    columns: [
      { label: "N" },
      { label: "roomcast" },
      { label: "tutorial" },
      { label: "tutorial ÷ roomcast" },
      { label: "Go port" },
      { label: "Go port ÷ roomcast" },
      { label: "floor: posts only" },
      { label: "floor: raw ws" },
    ],
    rows: [...pass].map(([size, s]) => [
      String(size),
      cell(s.get("roomcast"), size),
      cell(s.get("tutorial"), size),
      times(s.get("tutorial")!.median, s.get("roomcast")!.median),
      cell(s.get("goPort"), size),
      times(s.get("goPort")!.median, s.get("roomcast")!.median),
      cell(s.get("posts"), size),
      cell(s.get("rawWs"), size),
    ]),
  };
}

/** Lambda's CPU share grows with its memory: a full vCPU at 1769 MB (AWS documentation). */
const lambdaMbPerVcpu = 1769;

function fanoutFindings(input: {
  at: (latency: number, size: number, key: VariantKey) => Summary;
  sizes: number[];
  largest: number;
  latencyMs: number;
  cpu: Awaited<ReturnType<typeof measurePostCpu>>;
}): string[] {
  const { at, sizes, largest: n, latencyMs, cpu } = input;
  const p50 = (latency: number, key: VariantKey) => at(latency, n, key).median;
  const vs = (latency: number, key: VariantKey) => times(p50(latency, key), p50(latency, "roomcast"));
  const line = (latency: number, label: string) =>
    `N=${n}, ${label}: roomcast ${ms(p50(latency, "roomcast"))} ms (${times(p50(latency, "roomcast"), p50(latency, "posts"))} ` +
    `its posts-only floor); the tutorial takes ${vs(latency, "tutorial")} and the Go port ${vs(latency, "goPort")} ` +
    `roomcast's time.`;
  // Every size and latency where a baseline beat roomcast's median, not only the largest room.
  const behind = (key: VariantKey) =>
    [0, latencyMs].flatMap((latency) =>
      sizes
        .filter((size) => at(latency, size, key).median < at(latency, size, "roomcast").median)
        .map(
          (size) =>
            `N=${size} ${latency ? `with +${latency} ms` : "as is"}: ` +
            `${ms(at(latency, size, "roomcast").median)} against ${ms(at(latency, size, key).median)} ms`,
        ),
    );
  const memoryMb = infraDefaults.memorySize;
  const lambdaSeconds = (cpuMs: number) => ((cpuMs * n) / 1000) * (lambdaMbPerVcpu / memoryMb);
  return [
    line(0, "Management API as is"),
    line(latencyMs, `+${latencyMs} ms per call`),
    ...(behind("tutorial").length
      ? [
          `Where roomcast is not ahead: the tutorial's fan-out is faster (${behind("tutorial").join(", ")}). ` +
            `It does one read before its posts, where roomcast's ` +
            `request makes three dependent round trips first: the connection, the membership and the room's ` +
            `head (one BatchGetItem), the conditional put that stores the message under the next seq, then a ` +
            `strongly consistent Query of the members. Both post to a small room all at once; ` +
            `more than ${defaultConfig.inlineFanoutMax} recipients are not posted to by roomcast's request: ` +
            `its slices go through the fan-out queue and worker, ${defaultConfig.fanoutConcurrency} posts at a time each.`,
        ]
      : []),
    ...(behind("goPort").length
      ? [
          `The Go port is faster too where posts cost no round trip (${behind("goPort").join(", ")}): a local ` +
            `post takes well under a millisecond, so posting one at a time costs little, and its handler does ` +
            `no more than a Scan first.`,
        ]
      : []),
    `With +${latencyMs} ms the Go port pays the round trip N times in a row (${vs(latencyMs, "goPort")} ` +
      `roomcast's time at N=${n}), roomcast N ÷ ${defaultConfig.fanoutConcurrency} times.`,
    `The raw \`ws\` floor delivers to ${n} sockets in ${ms(p50(0, "rawWs"))} ms; going through the Management ` +
      `API (one signed HTTP request per recipient) costs ` +
      `${((p50(0, "posts") - p50(0, "rawWs")) / n).toFixed(2)} ms more per delivery in this one process, of which ` +
      `roomcast's transport spends about ${cpu.lean.cpu.median.toFixed(2)} ms of CPU (next finding).`,
    `CPU per delivery: PostToConnectionCommand (the baselines' SDK client) ${cpu.sdk.cpu.median.toFixed(2)} ms, ` +
      `roomcast's aws4 transport ${cpu.lean.cpu.median.toFixed(2)} ms ` +
      `(${times(cpu.sdk.cpu.median, cpu.lean.cpu.median)}). A ${memoryMb} MB ` +
      `Lambda gets about ${(memoryMb / lambdaMbPerVcpu).toFixed(2)} vCPU, so a ${n}-member broadcast needs about ` +
      `${lambdaSeconds(cpu.sdk.cpu.median).toFixed(1)} s of its time with the SDK vs ` +
      `${lambdaSeconds(cpu.lean.cpu.median).toFixed(1)} s with roomcast's transport, against ` +
      `${(((n / defaultConfig.fanoutConcurrency) * latencyMs) / 1000).toFixed(1)} s of round trips.`,
  ];
}

export const fanoutLatency: Benchmark = {
  name: "fanout-latency",
  title: "Fan-out latency: send to last delivery, and CPU per delivery",
  async run({ quick, progress, dynamodb, managementLatencyMs }) {
    // --quick: a room of 200, not 1000: connecting through the real `$connect` costs about 15 ms a client.
    const sizes = quick ? [10, 100, 200] : [10, 100, 1000];
    const trials = quick ? 3 : 7;
    const trialsAt = (size: number) => (size <= smallRoomMax ? trials * 3 : trials);
    const slowTrials = quick ? 1 : 3;
    const cpu = await measurePostCpu(trials, progress);
    const endpoint = await dynamodb();
    const passes = new Map<number, Map<number, Map<VariantKey, Summary>>>();
    for (const latencyMs of [0, managementLatencyMs]) {
      const label = latencyMs ? `+${latencyMs} ms per post` : "as is";
      const pass = await runPass(endpoint, latencyMs, { sizes, trialsAt, slowTrials, progress, label });
      passes.set(
        latencyMs,
        new Map(
          [...pass].map(([size, samples]) => [
            size,
            new Map([...samples].map(([key, values]) => [key, summarize(values)] as const)),
          ]),
        ),
      );
    }

    const at = (latency: number, size: number, key: VariantKey) => passes.get(latency)!.get(size)!.get(key)!;
    const largest = sizes[sizes.length - 1];
    return {
      method:
        `One sender and a room of N recipients, each a real \`ws\` client of the local stack (gateway, handlers ` +
        `and DynamoDB Local; rate limit off). The time runs from the sender's send to the moment the last ` +
        `recipient has the frame; median / p95 over ${trialsAt(smallRoomMax)} trials up to N = ${smallRoomMax} and ${trials} above, after ` +
        `${warmUpRounds} warm-up rounds, variants interleaved; each trial starts from an idle stack (the previous ` +
        `one's work settled, then ${postBudgetRefillMs} ms for the container's post budget to refill: one message ` +
        `to a room, not a stream of them). ` +
        `**roomcast**: \`sendmessage\` (membership check, store under the next seq, Query the room; up to ${defaultConfig.inlineFanoutMax} recipients ` +
        `it posts to all at once itself, a larger room goes through the fan-out queue). ` +
        `**Baselines** plugged into the same gateway (bench/baselines/tutorial.ts): the **tutorial** (Scan its ` +
        `connections table, post to all at once) and its **Go port** (Scan, post one at a time); their table ` +
        `holds exactly the room's connections here, so the Scan is as cheap as it can be (benchmark 1 is where ` +
        `it grows). **Floors**: the same N posts through roomcast's delivery with no database work, and a ` +
        `plain \`ws\` server relaying the frame to N sockets. Twice: the local Management API as is, and with ` +
        `${managementLatencyMs} ms added to every call (a round trip to API Gateway). The Go port's trials that ` +
        `take ${slowGoPortMs / 1000} s or more (N × latency) are limited to ${slowTrials}, without warm-up.`,
      tables: [
        latencyTable("Send to last delivery, ms p50 / p95 — Management API as is", passes.get(0)!, trialsAt),
        latencyTable(
          `Send to last delivery, ms p50 / p95 — Management API +${managementLatencyMs} ms per call`,
          passes.get(managementLatencyMs)!,
          trialsAt,
        ),
        {
          title: `Sender CPU per delivery: ${cpu.posts} posts, ${cpu.concurrency} at a time, endpoint +${cpu.latencyMs} ms in another process`,
          columns: [
            { label: "transport", align: "left" },
            { label: "CPU ms per delivery p50 / p95" },
            { label: `wall ms for ${cpu.posts} posts p50` },
            { label: "SDK ÷ this" },
          ],
          rows: [
            [
              "PostToConnectionCommand (AWS SDK v3, the baselines' client)",
              `${cpu.sdk.cpu.median.toFixed(3)} / ${cpu.sdk.cpu.p95.toFixed(3)}`,
              ms(cpu.sdk.wall.median),
              "×1.00",
            ],
            [
              "roomcast: handlers/delivery/transport.ts (aws4-signed keep-alive http.request)",
              `${cpu.lean.cpu.median.toFixed(3)} / ${cpu.lean.cpu.p95.toFixed(3)}`,
              ms(cpu.lean.wall.median),
              times(cpu.sdk.cpu.median, cpu.lean.cpu.median),
            ],
          ],
        },
      ],
      chart: barChartSvg({
        title: "Send to last delivery, median (log scale)",
        yLabel: "milliseconds",
        log: true,
        groups: [...passes].flatMap(([latency]) =>
          sizes.map((size) => `N=${size}${latency ? `, +${latency} ms` : ""}`),
        ),
        series: (Object.keys(variants) as VariantKey[]).map((key) => ({
          name: variants[key],
          values: [...passes.keys()].flatMap((latency) => sizes.map((size) => at(latency, size, key).median)),
        })),
        format: ms,
      }),
      findings: fanoutFindings({ at, sizes, largest, latencyMs: managementLatencyMs, cpu }),
    };
  },
};
