/**
 * @jest-environment ./tests/support/node-environment.ts
 * @exclusive
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { freePort, startDynamoDbLocal, type DynamoDbLocal } from "../../local/dynamodb-local";
import { everyoneGot, range, stormClient, type StormClient } from "../support/storm-client";
import { createLedger, figures, noProblems, problems, type SendRecord } from "../support/storm-ledger";
import { startStormStack, type StormStack } from "../support/storm-stack";
import { eventually } from "../support/storm-table";
import { handshakeStatus } from "../support/ws-client";

// The stack on its own DynamoDB Local, with its data on disk, which is stopped
// while clients keep sending and then started again on the same port and folder.
const room = "outage";
const senderCount = 3;
const listenerCount = 4;
/** Messages each sender sends once DynamoDB Local is back, before it stops. */
const sendsAfter = 10;

let dataDir: string;
let port: number;
let dynamodb: DynamoDbLocal | undefined;
let storm: StormStack | undefined;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "roomcast-outage-"));
  port = await freePort();
  dynamodb = await startDynamoDbLocal({ port, dbPath: dataDir });
  storm = await startStormStack({ dynamodbEndpoint: dynamodb.endpoint });
}, 60_000);

afterAll(async () => {
  // The `$disconnect`s of stop() still need DynamoDB Local: stop it last.
  await storm?.stop();
  await dynamodb?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

it("answers INTERNAL during the outage, keeps every connection, and loses no acked message", async () => {
  const { stack, table } = storm!;
  const ledger = createLedger();
  const clients = await Promise.all(
    range(senderCount + listenerCount).map((i) => stormClient(ledger, stack.wsUrl, `client-${i}`, room)),
  );
  const senders = clients.slice(0, senderCount);
  const phases = { stopping: Infinity, stopped: Infinity, restarting: Infinity, restarted: Infinity };

  // Senders keep sending through the whole outage, then `sendsAfter` more each once it is over.
  let sendingAfter = false;
  const sending = Promise.all(
    senders.map(async (sender) => {
      // As a client would, it pauses a little after an error before the next message.
      while (!sendingAfter) if ((await sender.send(room)).error) await delay(100);
      for (let i = 0; i < sendsAfter; i++) await sender.send(room);
    }),
  );
  await untilEachAcked(senders, ledger.sends, 5);
  phases.stopping = ledger.tick();
  await dynamodb!.stop();
  phases.stopped = ledger.tick();
  await untilEachRejected(senders, ledger.sends, phases.stopped, 3);
  const handshakeDuringOutage = await handshakeStatus(`${stack.wsUrl}?name=latecomer&room=${room}`);
  phases.restarting = ledger.tick();
  dynamodb = await startDynamoDbLocal({ port, dbPath: dataDir });
  phases.restarted = ledger.tick();
  sendingAfter = true;
  await sending;

  // Every connection survived, and the service is whole again.
  expect(stack.connectionCount()).toBe(clients.length);
  const last = await senders[0].send(room);
  expect(last.id).toBeDefined();
  await everyoneGot(
    clients.filter((c) => c !== senders[0]),
    last.id!,
  );

  const ended = (s: SendRecord, before: number) => s.doneAt! < before;
  const began = (s: SendRecord, after: number) => s.sentAt > after;
  const beforeOutage = ledger.sends.filter((s) => ended(s, phases.stopping));
  const duringOutage = ledger.sends.filter((s) => began(s, phases.stopped) && ended(s, phases.restarting));
  const afterOutage = ledger.sends.filter((s) => began(s, phases.restarted));
  expect(beforeOutage.every((s) => s.id)).toBe(true);
  expect(duringOutage.map((s) => s.error ?? "acked")).toEqual(duringOutage.map(() => "INTERNAL"));
  expect(afterOutage.every((s) => s.id)).toBe(true);
  expect(handshakeDuringOutage).toBe(500);

  const stored = await table.history(room);
  const report = ledger.verify(stored, [...storm!.faults, "DynamoDB Local restarted"]);
  // Only a message in flight as DynamoDB Local stopped may be stored without an ack (its fan-out failed).
  const inFlightAtStop = ledger.sends.filter(
    (s) => s.sentAt < phases.stopping && s.doneAt! > phases.stopping,
  );
  const rejected = ledger.sends.filter((s) => s.error && !inFlightAtStop.includes(s));
  const storedTexts = new Set(stored.map((m) => m.text));
  console.log(
    figures("DynamoDB Local restarted", report, [
      `${beforeOutage.length} acked before the outage`,
      `${duringOutage.length} rejected with INTERNAL while it was down`,
      `${afterOutage.length} acked after it was back`,
      `${rejected.length} rejected in all, none stored`,
      `${inFlightAtStop.length} in flight as it stopped (${report.storedUnacked.length} stored without an ack)`,
      `handshake during the outage: ${handshakeDuringOutage}`,
    ]),
  );
  // The stream worker's batches failed while DynamoDB Local was down; the mapping's retries back
  // off (doubling up to 5 s) and outlast the outage, and the stream's records survive the restart:
  // every acked message reached every listener.
  expect(problems(report)).toEqual(noProblems);
  expect(rejected.filter((s) => storedTexts.has(s.text))).toEqual([]);
  const inFlightTexts = new Set(inFlightAtStop.map((s) => s.text));
  expect(report.storedUnacked.filter((m) => !inFlightTexts.has(m.text!))).toEqual([]);
}, 120_000);

/** Waits until each sender has `count` acks (before the outage). */
async function untilEachAcked(senders: StormClient[], sends: SendRecord[], count: number) {
  await until(() => senders.every((c) => sends.filter((s) => s.sender === c.name && s.id).length >= count));
}

/** Waits until each sender has `count` error frames for messages sent after `since`. */
async function untilEachRejected(senders: StormClient[], sends: SendRecord[], since: number, count: number) {
  await until(() =>
    senders.every(
      (c) => sends.filter((s) => s.sender === c.name && s.sentAt > since && s.error).length >= count,
    ),
  );
}

const until = (condition: () => boolean) =>
  eventually(async () => {
    if (!condition()) throw new Error("still waiting");
  });
