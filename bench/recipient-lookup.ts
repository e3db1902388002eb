/**
 * Benchmark 1: what finding a broadcast's recipients costs as the deployment grows.
 * roomcast reads one room's member partition (one Query); the tutorial Scans
 * every connection of the API. Read units come from DynamoDB Local itself
 * (ReturnConsumedCapacity: TOTAL on every call, through a client middleware).
 */
import { randomBytes } from "node:crypto";
import { ulid } from "ulid";
import { localAws } from "../model/client";
import { createDocumentClient, createDynamoClient } from "../model/client";
import { ensureTable } from "../model/create-table";
import { createChatService } from "../model/service";
import { sliceRanges } from "../model/slices";
import { createChatStore, roomShard } from "../model/store";
import { awsStyleId } from "../local/events";
import { tutorialConnections } from "./baselines/tutorial";
import type { Benchmark } from "./lib/benchmark";
import {
  batchWriteAll,
  dropTables,
  itemSizeBytes,
  meterCapacity,
  readUnitsOneRequest,
  readUnitsPerItem,
} from "./lib/dynamodb";
import { count, ms, times } from "./lib/format";
import { summarize, type Summary } from "./lib/stats";
import { barChartSvg } from "./lib/svg-chart";

const membersPerRoom = 100;
/** The large room: the bound is 500 RCU to read all of it. */
const largeRoomMembers = 50_000;
const largeRoom = "lobby-50k";
/** Slices read in parallel, as the fan-out workers read them (`fanoutSlices`' default). */
const largeRoomSlices = 16;
const messagesPerRoom = 20;
const roomName = (i: number) => `room-${String(i).padStart(5, "0")}`;
/** The room whose recipients every trial looks up. */
const target = roomName(0);

type Measured = { units: number; requests: number; ms: Summary };

type LargeRoom = {
  connections: number;
  whole: Measured;
  slices: Measured;
  scan: Measured;
  floor: number;
};

type Level = {
  rooms: number;
  tableItems: number;
  connections: number;
  query: { units: number; requests: number; ms: Summary };
  scan: { units: number; requests: number; ms: Summary };
  floor: number;
  perItem: number;
};

export const recipientLookup: Benchmark = {
  name: "recipient-lookup",
  title: "Recipient lookup: one Query vs the tutorial's Scan",
  async run({ quick, progress, dynamodb }) {
    const levels = quick ? [1, 10, 100] : [1, 10, 100, 1000];
    const trials = quick ? 5 : 9;
    const endpoint = await dynamodb();
    const suffix = randomBytes(4).toString("hex");
    // A pool as large as the seeding's concurrency, so no batch waits for a socket.
    const client = createDynamoClient(endpoint, {
      ...localAws,
      requestHandler: { httpAgent: { keepAlive: true, maxSockets: 32 } },
    });
    const meter = meterCapacity(client);
    const doc = createDocumentClient(client);
    const tableName = `bench-lookup-${suffix}`;
    await ensureTable(client, tableName);
    const service = createChatService(doc, tableName);
    const store = createChatStore(service);
    const tutorial = tutorialConnections(client, `bench-connections-${suffix}`);
    await tutorial.create();

    const expiresAt = Math.floor(Date.now() / 1000) + 3 * 3600;
    const { membership, message, room } = service.entities;
    let targetSizes: number[] = [];

    /** Rooms [from, to): 100 members, 20 messages and the room's count each; the same connections in the tutorial's table. */
    async function seed(from: number, to: number) {
      const roomcastItems: Record<string, unknown>[] = [];
      const tutorialItems: Record<string, unknown>[] = [];
      for (let r = from; r < to; r++) {
        const name = roomName(r);
        const members = Array.from({ length: membersPerRoom }, (_, m) => {
          const connectionId = awsStyleId();
          tutorialItems.push({ connectionId });
          return membership.put({ room: name, connectionId, name: `user-${r}-${m}`, expiresAt }).params()
            .Item;
        });
        if (r === 0) targetSizes = members.map(itemSizeBytes);
        roomcastItems.push(
          ...members,
          room.put({ shard: roomShard(name), room: name, members: membersPerRoom }).params().Item,
        );
        for (let i = 0; i < messagesPerRoom; i++) {
          roomcastItems.push(
            message
              .put({
                room: name,
                seq: i + 1,
                id: ulid(),
                from: `user-${r}-${i % membersPerRoom}`,
                connectionId: awsStyleId(),
                text: `message ${i} of ${name}: a line of chat of ordinary length`,
                sentAt: new Date().toISOString(),
              })
              .params().Item,
          );
        }
      }
      const chunk = 20_000;
      const all = [
        ...roomcastItems.map((item) => [tableName, item] as const),
        ...tutorialItems.map((item) => [tutorial.tableName, item] as const),
      ];
      for (let i = 0; i < all.length; i += chunk) {
        progress(`seeding rooms ${from}..${to - 1}: ${count(i)}/${count(all.length)} items`);
        const slice = all.slice(i, i + chunk);
        await Promise.all(
          [tableName, tutorial.tableName].map((table) =>
            batchWriteAll(
              doc,
              table,
              slice.filter(([t]) => t === table).map(([, item]) => item),
              16,
            ),
          ),
        );
      }
      meter.take();
    }

    const results: Level[] = [];
    let seeded = 0;
    for (const rooms of levels) {
      await seed(seeded, rooms);
      seeded = rooms;
      const queryMs: number[] = [];
      const scanMs: number[] = [];
      let query = { units: 0, requests: 0 };
      let scan = { units: 0, requests: 0 };
      // Untimed: the first calls pay for JIT compilation and new sockets.
      await store.membersOf(target);
      await tutorial.scanConnectionIds();
      meter.take();
      for (let trial = 0; trial < trials; trial++) {
        progress(`R=${rooms} trial ${trial + 1}/${trials}`);
        // Alternate which goes first, so neither always meets a warmer DynamoDB Local.
        const order = trial % 2 === 0 ? ["query", "scan"] : ["scan", "query"];
        for (const which of order) {
          const started = performance.now();
          if (which === "query") {
            const members = await store.membersOf(target);
            queryMs.push(performance.now() - started);
            query = meter.take();
            if (members.length !== membersPerRoom) throw new Error(`membersOf found ${members.length}`);
          } else {
            const ids = await tutorial.scanConnectionIds();
            scanMs.push(performance.now() - started);
            scan = meter.take();
            if (ids.length !== rooms * membersPerRoom) throw new Error(`Scan found ${ids.length}`);
          }
        }
      }
      results.push({
        rooms,
        tableItems: rooms * (membersPerRoom + messagesPerRoom + 1),
        connections: rooms * membersPerRoom,
        query: { ...query, ms: summarize(queryMs) },
        scan: { ...scan, ms: summarize(scanMs) },
        floor: readUnitsOneRequest(targetSizes),
        perItem: readUnitsPerItem(targetSizes),
      });
    }
    const large = await measureLargeRoom();
    await dropTables(client, [tableName, tutorial.tableName]);
    client.destroy();

    /** A 50,000-member room added to the largest table: one Query, 16 slices in parallel, the Scan. */
    async function measureLargeRoom(): Promise<LargeRoom> {
      const sizes: number[] = [];
      const members: Record<string, unknown>[] = [];
      const connections: Record<string, unknown>[] = [];
      for (let m = 0; m < largeRoomMembers; m++) {
        const connectionId = awsStyleId();
        connections.push({ connectionId });
        const item = membership.put({ room: largeRoom, connectionId, name: `lobby-${m}`, expiresAt }).params()
          .Item as Record<string, unknown>;
        sizes.push(itemSizeBytes(item));
        members.push(item);
      }
      progress(`seeding a ${count(largeRoomMembers)}-member room`);
      await Promise.all([
        batchWriteAll(doc, tableName, members, 16),
        batchWriteAll(doc, tutorial.tableName, connections, 16),
      ]);
      const connectionCount = seeded * membersPerRoom + largeRoomMembers;
      const ranges = sliceRanges(largeRoomSlices);
      const lookups = {
        whole: async () => (await store.membersOf(largeRoom)).length,
        slices: async () =>
          (await Promise.all(ranges.map((slice) => store.membersOf(largeRoom, { slice })))).reduce(
            (total, part) => total + part.length,
            0,
          ),
        scan: async () => (await tutorial.scanConnectionIds()).length,
      };
      const expected = { whole: largeRoomMembers, slices: largeRoomMembers, scan: connectionCount };
      const largeTrials = quick ? 3 : 5;
      const measured = {} as Record<keyof typeof lookups, Measured>;
      for (const [which, lookup] of Object.entries(lookups) as [
        keyof typeof lookups,
        () => Promise<number>,
      ][]) {
        await lookup(); // untimed warm-up
        meter.take();
        const took: number[] = [];
        let capacity = { units: 0, requests: 0 };
        for (let trial = 0; trial < largeTrials; trial++) {
          progress(`${count(largeRoomMembers)}-member room: ${which} trial ${trial + 1}/${largeTrials}`);
          const started = performance.now();
          const found = await lookup();
          took.push(performance.now() - started);
          capacity = meter.take();
          if (found !== expected[which]) throw new Error(`${which} found ${found}, not ${expected[which]}`);
        }
        measured[which] = { ...capacity, ms: summarize(took) };
      }
      return { connections: connectionCount, ...measured, floor: readUnitsOneRequest(sizes) };
    }

    const [smallest, largest] = [results[0], results[results.length - 1]];
    const crossover = results.find((r) => r.scan.units > r.query.units);
    const avgSize = targetSizes.reduce((a, b) => a + b, 0) / targetSizes.length;
    return {
      method:
        `A room of ${membersPerRoom} members in a table of R rooms of ${membersPerRoom} members each, plus ` +
        `${messagesPerRoom} messages and a member count per room (DynamoDB Local, seeded incrementally ` +
        `R = ${levels.join(" → ")} in one table). **roomcast**: \`membersOf\` (one Query on \`room#R#members\`). ` +
        `**Baseline, tutorial**: a paginated Scan of its connections table, one \`{connectionId}\` item per ` +
        `connection, R×${membersPerRoom} items. **Floor**: what reading exactly those ${membersPerRoom} membership ` +
        `items costs in one request (ceil(Σ size / 4 KB) × 0.5 RCU, eventually consistent). ` +
        `Read units as DynamoDB Local reports them; wall time median and p95 of ${trials} trials.`,
      tables: [
        {
          title: "Read units and wall time per lookup",
          columns: [
            { label: "R rooms" },
            { label: "connections" },
            { label: "roomcast RCU" },
            { label: "tutorial Scan RCU" },
            { label: "floor RCU" },
            { label: "Scan/Query RCU" },
            { label: "Scan pages" },
            { label: "roomcast ms p50 / p95" },
            { label: "tutorial ms p50 / p95" },
            { label: "Scan/Query time" },
          ],
          rows: results.map((r) => [
            count(r.rooms),
            count(r.connections),
            String(r.query.units),
            String(r.scan.units),
            String(r.floor),
            times(r.scan.units, r.query.units),
            String(r.scan.requests),
            `${ms(r.query.ms.median)} / ${ms(r.query.ms.p95)}`,
            `${ms(r.scan.ms.median)} / ${ms(r.scan.ms.p95)}`,
            times(r.scan.ms.median, r.query.ms.median),
          ]),
        },
        {
          title:
            `A ${count(largeRoomMembers)}-member room, in the table of R = ${count(largest.rooms)} ` +
            `(${count(large.connections)} connections in all)`,
          columns: [
            { label: "lookup" },
            { label: "requests" },
            { label: "RCU" },
            { label: "RCU per 100 members" },
            { label: "ms p50 / p95" },
          ],
          rows: [
            ["roomcast: one Query, every page", large.whole],
            [`roomcast: ${largeRoomSlices} slice Queries in parallel`, large.slices],
            ["tutorial: Scan of every connection", large.scan],
          ].map(([label, m]) => {
            const { units, requests, ms: took } = m as Measured;
            return [
              label as string,
              String(requests),
              String(units),
              ((units * 100) / largeRoomMembers).toFixed(2),
              `${ms(took.median)} / ${ms(took.p95)}`,
            ];
          }),
        },
      ],
      chart: barChartSvg({
        title: `Read units to find the ${membersPerRoom} recipients of one room (log scale)`,
        yLabel: "read capacity units per broadcast",
        log: true,
        groups: results.map((r) => `R = ${count(r.rooms)}`),
        series: [
          { name: "roomcast (Query)", values: results.map((r) => r.query.units) },
          { name: "baseline: tutorial (Scan)", values: results.map((r) => r.scan.units) },
          { name: "floor: exactly those items", values: results.map((r) => r.floor) },
        ],
        format: (v) => String(v),
      }),
      findings: [
        `At R = ${count(largest.rooms)} (${count(largest.connections)} connections) the tutorial's Scan reads ` +
          `${largest.scan.units} RCU in ${largest.scan.requests} page(s) for every message, roomcast's Query ` +
          `${largest.query.units} RCU: ${times(largest.scan.units, largest.query.units)} the read units and ` +
          `${times(largest.scan.ms.median, largest.query.ms.median)} the time (median). roomcast's cost stays the ` +
          `same at every R; the Scan's grows with every connection of the API.`,
        largest.query.units <= largest.floor
          ? `roomcast is at the floor: its Query returns exactly the room's ${membersPerRoom} membership items ` +
            `(${avgSize.toFixed(0)} bytes each on average) for ${largest.floor} RCU. Read one by one (GetItem or ` +
            `BatchGetItem, each item rounded up to 4 KB) the same items would cost ${largest.perItem} RCU.`
          : `roomcast reads ${largest.query.units} RCU where exactly the room's ${membersPerRoom} membership items ` +
            `would cost ${largest.floor} RCU (${times(largest.query.units, largest.floor)} the floor).`,
        ...(smallest.scan.units < smallest.query.units
          ? [
              `Where roomcast is not ahead: with a single room (R = ${smallest.rooms}) the Scan is cheaper ` +
                `(${smallest.scan.units} vs ${smallest.query.units} RCU), because the tutorial's items hold just ` +
                `\`{connectionId}\` while a membership also carries the room key, the name shown to the ` +
                `room and its TTL (${avgSize.toFixed(0)} bytes). The Scan costs more from R = ` +
                `${count(crossover?.rooms ?? NaN)} on.`,
            ]
          : []),
        `A ${count(largeRoomMembers)}-member room: one Query reads ${large.whole.units} RCU ` +
          `(${((large.whole.units * 100) / largeRoomMembers).toFixed(2)} per 100 members) in ` +
          `${large.whole.requests} pages, ${ms(large.whole.ms.median)} ms (median); its ${largeRoomSlices} ` +
          `slices read in parallel ${large.slices.units} RCU in ${large.slices.requests} requests, ` +
          `${ms(large.slices.ms.median)} ms (${times(large.whole.ms.median, large.slices.ms.median)} the speed); ` +
          `exactly those items cost ${large.floor} RCU.`,
        ...(large.scan.units < large.whole.units
          ? [
              `Where roomcast is not ahead: when one room holds most of the API's connections, the tutorial's ` +
                `Scan of all ${count(large.connections)} of them reads fewer units (${large.scan.units} RCU in ` +
                `${large.scan.requests} pages, ${ms(large.scan.ms.median)} ms), its items being a bare ` +
                `\`{connectionId}\`; it still grows with every other connection of the API, the Query does not.`,
            ]
          : []),
        `As published, the tutorial's single Scan is not paginated: past 1 MB (about 35 000 connections) it ` +
          `silently skips everyone else. The baseline here pages through the whole table, as it should.`,
      ],
    };
  },
};
