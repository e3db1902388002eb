/**
 * A rig of R rooms of 10 members with every function at its Lambda's CPU share
 * (as benchmark 6): the API as a pool of capped gateway processes, the stream
 * worker and the fan-out pool capped (capped-workers.ts). In each room one member
 * is a real `ws` sender and 9 are written straight to the table and counted at
 * the Management API stand-in (+20 ms a post), which records every arrival and
 * forwards calls for the real senders to their gateway. Beside each room, the
 * tutorial's design gets a connections table of its own (one deployment per
 * room: it has no rooms) holding the same 9 recipients and one id standing for
 * the sender, to which the tutorial posts too.
 *
 * With `routeContainers`, each API process is the gateway alone, uncapped, handing
 * each request to a free route container at the API's share (capped-stack.ts), the
 * tutorial's route included.
 *
 * `send` offers messages open loop (on a clock, whatever the acks do) and hands
 * back each message's send, ack and per-recipient arrival times.
 */
import { randomBytes } from "node:crypto";
import type { WebSocket } from "ws";
import { defaultConfig } from "../../handlers/config";
import { startSqsServer } from "../../local/sqs-server";
import { createDocumentClient, createDynamoClient } from "../../model/client";
import { ensureTable } from "../../model/create-table";
import { createChatService } from "../../model/service";
import { roomShard } from "../../model/store";
import { tutorialConnections } from "../baselines/tutorial";
import { forkCappedStack } from "./capped-stack";
import { capNote, startCappedWorkers, type FanoutPool } from "./capped-workers";
import { startCountingManagementApi, nowMs, seededConnectionId } from "./counting-management-api";
import { capCpu } from "./cpu-cap";
import { batchWriteAll, dropTables } from "./dynamodb";
import type { Invocation } from "./lambda-process";
import type { Progress } from "./progress";
import { nextFrame, openClients } from "./ws-clients";

export type Design = "roomcast" | "tutorial";
export const designNames: Record<Design, string> = {
  roomcast: "roomcast",
  tutorial: "baseline: tutorial (Scan + all at once, a table per room)",
};

export const smallRoomShape = {
  members: 10,
  /** The routes' and the stream worker's memory (Pulumi.dev.yaml: memorySize, streamMemorySize). */
  apiMemoryMb: 256,
  streamMemoryMb: 256,
  pool: { fanoutMemoryMb: 256, poolSize: 8 } satisfies FanoutPool,
  latencyMs: 20,
};
/** Recipients each message owes: roomcast posts to the 9 others, the tutorial to all 10 of its table. */
export const owedPerMessage: Record<Design, number> = { roomcast: smallRoomShape.members - 1, tutorial: 10 };
const ackTimeoutMs = 30_000;

/** One offered message: when it left, when its ack came (roomcast), and when each recipient got it. */
export type Sent = {
  key: string;
  room: string;
  sentAt: number;
  ackAt?: number;
  /** First arrival per recipient. */
  arrivals: Map<string, number>;
  /** Each repeat's arrival, ms after its recipient's first: the gap tells which path repeated it. */
  repeatGapsMs: number[];
};

export type SmallRoomsOptions = {
  dynamodbEndpoint: string;
  rooms: number;
  /** Gateway + routes processes, each at the API's share (Lambda runs concurrent requests in containers of their own). */
  apiContainers: number;
  /** Route containers per API process: requests no longer share one process's CPU share (see above). */
  routeContainers?: number;
  /** Whether to write and serve the tutorial's design beside roomcast (default: yes). */
  tutorial?: boolean;
  progress: Progress;
  env?: Record<string, string>;
};

export type SmallRoomsRig = Awaited<ReturnType<typeof startSmallRoomsRig>>;

export async function startSmallRoomsRig(options: SmallRoomsOptions) {
  const { progress, rooms } = options;
  const suffix = randomBytes(4).toString("hex");
  const tableName = `bench-small-${suffix}`;
  const tutorialPrefix = `bench-small-tutorial-${suffix}`;
  const client = createDynamoClient(options.dynamodbEndpoint);
  const doc = createDocumentClient(client);
  const roomNames = Array.from({ length: rooms }, (_, r) => `room-${r}`);
  const recipients = new Map(roomNames.map((room) => [room, Array.from({ length: 9 }, seededConnectionId)]));
  const cleanups: (() => Promise<unknown> | void)[] = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
  };
  const capNotes = new Set<string>();
  const log: Invocation[] = [];
  cleanups.push(() => client.destroy());
  try {
    const withTutorial = options.tutorial ?? true;
    progress(
      `R=${rooms}: writing ${rooms} rooms of 9 recipients` +
        (withTutorial ? ` and the tutorial's ${rooms} tables` : ""),
    );
    await ensureTable(client, tableName);
    cleanups.push(() => dropTables(client, [tableName]));
    const expiresAt = Math.floor(Date.now() / 1000) + defaultConfig.connectionTtlSeconds;
    const { membership, room } = createChatService(doc, tableName).entities;
    await batchWriteAll(
      doc,
      tableName,
      roomNames.flatMap((name) => [
        ...recipients
          .get(name)!
          .map(
            (connectionId) =>
              membership.put({ room: name, connectionId, name: "member", expiresAt }).params().Item,
          ),
        room.put({ shard: roomShard(name), room: name, members: 9 }).params().Item,
      ]),
    );
    for (const name of withTutorial ? roomNames : []) {
      const connections = tutorialConnections(client, `${tutorialPrefix}-${name}`);
      await connections.create();
      cleanups.push(() => dropTables(client, [connections.tableName]));
      await batchWriteAll(
        doc,
        connections.tableName,
        [...recipients.get(name)!, seededConnectionId()].map((connectionId) => ({ connectionId })),
      );
    }

    const standIn = startCountingManagementApi(smallRoomShape.latencyMs);
    cleanups.push(() => standIn.stop());
    const managementEndpoint = await standIn.url;
    await standIn.record("m:");
    const sqs = await startSqsServer();
    cleanups.push(() => sqs.stop());

    const api = options.routeContainers
      ? `${options.apiContainers} gateways of ${options.routeContainers} route containers`
      : `${options.apiContainers} API processes`;
    progress(`R=${rooms}: starting ${api}, the stream worker and the fan-out pool`);
    const workers = await startCappedWorkers({
      dynamodbEndpoint: options.dynamodbEndpoint,
      tableName,
      sqsEndpoint: sqs.endpoint,
      queuePrefix: tableName,
      managementEndpoint,
      streamMemoryMb: smallRoomShape.streamMemoryMb,
      pool: smallRoomShape.pool,
      env: options.env,
      cgroupPrefix: `roomcast-bench-${process.pid}-${suffix}`,
      log,
      onError: (error) => progress(`event source mapping error: ${String(error)}`),
    });
    cleanups.push(() => workers.stop());
    workers.capNotes.forEach((line) => capNotes.add(line));

    const apis = Array.from({ length: options.apiContainers }, (_, i) =>
      forkCappedStack({
        dynamodbEndpoint: options.dynamodbEndpoint,
        tableName,
        managementEndpoint,
        routesManagementEndpoint: managementEndpoint,
        // The routes' fast path queues what it could not post (and large rooms) as the deployed routes do.
        env: { ...options.env, ...workers.queueEnv },
        baselines: withTutorial
          ? [{ action: "baseline-tutorial", table: tutorialPrefix, posting: "all at once", perRoom: true }]
          : [],
        routeContainers: options.routeContainers
          ? {
              count: options.routeContainers,
              memoryMb: smallRoomShape.apiMemoryMb,
              cgroupPrefix: `roomcast-bench-${process.pid}-${suffix}-api-${i}`,
            }
          : undefined,
      }),
    );
    cleanups.push(() => Promise.all(apis.map((api) => api.stop().catch(() => undefined))));
    const wsUrls = await Promise.all(apis.map((api) => api.wsUrl));
    for (const api of options.routeContainers ? apis : []) {
      const cap = (await api.routesCapped)!;
      capNotes.add(
        capNote(
          cap.applied,
          `each of ${options.routeContainers} route containers of each of ${apis.length} uncapped gateways`,
          smallRoomShape.apiMemoryMb,
          cap.reason,
        ),
      );
    }
    (options.routeContainers ? [] : apis).forEach((api, i) => {
      const cap = capCpu(
        api.pid,
        smallRoomShape.apiMemoryMb,
        `roomcast-bench-${process.pid}-${suffix}-api-${i}`,
      );
      cleanups.push(() => cap.remove());
      capNotes.add(
        capNote(cap.applied, `each of ${apis.length} API processes`, smallRoomShape.apiMemoryMb, cap.reason),
      );
    });
    await standIn.forwardTo(wsUrls.map((url) => `http://${new URL(url).host}`));
    // One sender per `maxRoomsPerConnection` rooms, spread over the API processes.
    const perSender = defaultConfig.maxRoomsPerConnection;
    const senderCount = Math.ceil(rooms / perSender);
    progress(`R=${rooms}: ${senderCount} senders joining ${rooms} rooms`);
    const senders = await openClients(
      Array.from(
        { length: senderCount },
        (_, s) => `${wsUrls[s % wsUrls.length]}?name=sender-${s}&room=${roomNames[s * perSender]}`,
      ),
      4,
    );
    cleanups.push(() => senders.forEach((ws) => ws.terminate()));
    await Promise.all(
      senders.map(async (ws, s) => {
        for (const name of roomNames.slice(s * perSender + 1, (s + 1) * perSender)) {
          const joined = nextFrame(ws, '"type":"joined"', 60_000);
          ws.send(JSON.stringify({ action: "joinroom", room: name }));
          await joined;
        }
      }),
    );
    const senderOf = (roomIndex: number): WebSocket => senders[Math.floor(roomIndex / perSender)];

    /** Every message ever offered, by key: arrivals land here whenever they are taken. */
    const offered = new Map<string, Sent>();
    const acks = new Map<string, (at: number) => void>();
    for (const ws of senders)
      ws.on("message", (data: Buffer) => {
        const text = data.toString();
        if (!text.includes('"type":"ack"')) return;
        const { clientId } = JSON.parse(text) as { clientId?: string };
        if (clientId) acks.get(clientId)?.(nowMs());
      });
    let deletes: [string, number][] = [];
    async function collect() {
      const taken = await standIn.take();
      for (const [key, connectionId, at] of taken.arrivals) {
        const sent = offered.get(key);
        if (!sent) continue;
        const first = sent.arrivals.get(connectionId);
        if (first === undefined) sent.arrivals.set(connectionId, at);
        else sent.repeatGapsMs.push(at - first);
      }
      deletes = deletes.concat(taken.deletes);
    }

    /** Sends one message of `design` to room `roomIndex` now; resolves at its ack (roomcast) or at once. */
    function sendOne(design: Design, key: string, roomIndex: number): Promise<void> {
      const roomName = roomNames[roomIndex];
      const sent: Sent = {
        key,
        room: roomName,
        sentAt: nowMs(),
        arrivals: new Map(),
        repeatGapsMs: [],
      };
      offered.set(key, sent);
      const ws = senderOf(roomIndex);
      if (design === "tutorial") {
        ws.send(JSON.stringify({ action: "baseline-tutorial", room: roomName, data: key }));
        return Promise.resolve();
      }
      const acked = new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          acks.delete(key);
          resolve();
        }, ackTimeoutMs);
        acks.set(key, (at) => {
          clearTimeout(timer);
          acks.delete(key);
          sent.ackAt = at;
          resolve();
        });
      });
      ws.send(JSON.stringify({ action: "sendmessage", room: roomName, message: key, clientId: key }));
      return acked;
    }

    /** Waits until every message of `batch` has all its recipients, or `boundMs` passed. */
    async function drain(design: Design, batch: Sent[], boundMs: number) {
      const until = nowMs() + boundMs;
      const owed = owedPerMessage[design];
      do {
        await new Promise((resolve) => setTimeout(resolve, 250));
        await collect();
      } while (batch.some((m) => m.arrivals.size < owed) && nowMs() < until);
    }

    let tagCounter = 0;
    return {
      rooms,
      roomNames,
      recipients,
      capNotes,
      standIn,
      pipeline: workers.pipeline,
      /** DELETEs (disconnects) seen so far, with their times. */
      deletes: () => deletes,
      collect,
      drain,
      /**
       * Offers `rate` messages a second for `seconds`, open loop, round robin over the rooms
       * (or only `roomsOf`); resolves once every ack is in (or timed out).
       */
      async offer(design: Design, rate: number, seconds: number, roomsOf?: number[]) {
        const tag = `m:${tagCounter++}:${design}:`;
        const targets = roomsOf ?? roomNames.map((_, r) => r);
        const total = Math.round(rate * seconds);
        const started = nowMs();
        const batch: Sent[] = [];
        const pendingAcks: Promise<void>[] = [];
        for (let i = 0; i < total; i++) {
          const due = started + (i * 1000) / rate;
          const wait = due - nowMs();
          if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
          const key = `${tag}${i}`;
          pendingAcks.push(sendOne(design, key, targets[i % targets.length]));
          batch.push(offered.get(key)!);
        }
        const offeredFor = (nowMs() - started) / 1000;
        await Promise.all(pendingAcks);
        return { batch, offeredSeconds: offeredFor };
      },
      /**
       * The API's own storing rate: `inFlight` messages outstanding at all times (each sent as
       * soon as an ack returns), for `seconds`; acks per second.
       */
      async storeRate(seconds: number, inFlight: number) {
        const tag = `m:${tagCounter++}:store:`;
        const until = nowMs() + seconds * 1000;
        let acked = 0;
        let n = 0;
        await Promise.all(
          Array.from({ length: inFlight }, async () => {
            while (nowMs() < until) {
              const i = n++;
              await sendOne("roomcast", `${tag}${i}`, i % rooms);
              if (offered.get(`${tag}${i}`)!.ackAt !== undefined) acked++;
            }
          }),
        );
        return acked / seconds;
      },
      /** Waits for the stream and the queues to settle; false if they did not within `timeoutMs`. */
      async settle(timeoutMs: number) {
        try {
          await workers.pipeline.idle(timeoutMs);
          await collect();
          return true;
        } catch {
          return false;
        }
      },
      stop: stopAll,
      invocations: log,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
