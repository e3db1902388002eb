import { configEnv, defaultConfig } from "../../handlers/config";
import { gatewayEnv } from "../../local/gateway-settings";
import { freePort } from "../../local/dynamodb-local";
import { runInGroup } from "../support/child-process";
import { connect, type Closed, type Frame, type TestClient } from "../support/ws-client";

// What the abuse limits promise, checked on `npm start` with every setting at its default (one
// in-memory start for the file, loopback clients only): a junk flood neither delays anyone
// else's messages nor keeps its connection, and one client's big room directory still pages.
jest.setTimeout(600_000);

/** The environment without any setting of the handlers or the gateway: `npm start`'s defaults. */
const withDefaults = () => {
  const settings = new Set<string>([...Object.values(configEnv), ...Object.values(gatewayEnv)]);
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !settings.has(name)));
};

let start: ReturnType<typeof runInGroup>;
let wsUrl: string;
beforeAll(async () => {
  const port = await freePort();
  start = runInGroup("npm", ["start", "--", "--in-memory"], {
    env: { ...withDefaults(), PORT: String(port) },
  });
  await start.printed("Ctrl-C stops everything.");
  wsUrl = `ws://127.0.0.1:${port}`;
});
afterAll(async () => {
  start.pressCtrlC();
  await start.exited;
  start.killAll();
});

/** Sends a frame and waits for the reply of that `type` (or an error). */
async function ask(client: TestClient, frame: object, type: string): Promise<Frame> {
  client.send(frame);
  const reply = await client.next((f) => f.type === type || f.type === "error");
  if (reply.type !== type) throw new Error(`${JSON.stringify(frame)} answered ${JSON.stringify(reply)}`);
  return reply;
}

/**
 * Floods junk frames as fast as the socket takes them until it closes or `stop` settles: up to 100
 * frames a millisecond while little is buffered (a bounded batch, so this process's timers still run).
 */
async function floodJunk(flooder: TestClient, stop: Promise<unknown>): Promise<number> {
  let sent = 0;
  let over = false;
  void Promise.race([flooder.closed, stop]).then(() => (over = true));
  while (!over) {
    for (let i = 0; i < 100 && !over && flooder.ws.bufferedAmount < 64 * 1024; i++)
      flooder.send(`junk ${sent++}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return sent;
}

test("junk flooded at full speed, one flooder after another: another user's 10 messages are all acked, and each flooder is closed", async () => {
  const sender = await connect(`${wsUrl}?name=sender&room=flood`);
  const reader = await connect(`${wsUrl}?name=reader&room=flood`);
  const started = Date.now();
  const since = () => Date.now() - started;
  // The bound on the whole flood (no flooder is left running): generous, the acks need far less.
  const floodBoundMs = 60_000;
  let bound!: NodeJS.Timeout;
  const floodOver = new Promise<"flood outlasted the acks">(
    (done) => (bound = setTimeout(() => done("flood outlasted the acks"), floodBoundMs)),
  );

  // The flood lasts until the acks are in: a closed flooder is replaced by a new one at once.
  let acked = false;
  const flooders: { sent: number; closed: Closed; closedAtMs: number; refusals: number }[] = [];
  const flooding = (async () => {
    while (!acked) {
      const flooder = await connect(`${wsUrl}?name=flooder${flooders.length}&room=flood`);
      // The acks came in while it connected: no flood left to keep up.
      if (acked) return flooder.close();
      const sent = await floodJunk(flooder, floodOver);
      const closed = await Promise.race([flooder.closed, floodOver]);
      if (typeof closed === "string") return flooder.ws.terminate();
      const refusals = flooder.frames.filter((f) => typeof f === "object" && f.code === "RATE_LIMITED");
      flooders.push({ sent, closed, closedAtMs: since(), refusals: refusals.length });
    }
  })();

  const acks = (async () => {
    const frames: Frame[] = [];
    for (let i = 0; i < 10; i++)
      frames.push(await ask(sender, { action: "sendmessage", message: `m${i}` }, "ack"));
    return frames;
  })();
  expect(await Promise.race([acks.then(() => "acked"), floodOver])).toBe("acked");
  acked = true;
  const ackedAtMs = since();
  const frames = await acks;
  expect(frames.map((ack) => ack.seq)).toEqual(frames.map((_, i) => (frames[0].seq as number) + i));
  for (let i = 0; i < 10; i++) await reader.next((f) => f.text === `m${i}`);

  // The flooder of the moment floods on until the server closes it (Management API DELETE: 1000)
  // after rateLimitCloseAfter refusals in a row, as it did every flooder before it.
  await flooding;
  clearTimeout(bound);
  expect(flooders.length).toBeGreaterThan(0);
  for (const flooder of flooders) {
    expect(flooder.closed).toEqual({ code: 1000, reason: "" });
    // The refusal that closes it is answered after the close frame, so the client never sees it.
    expect(flooder.refusals).toBeGreaterThanOrEqual(defaultConfig.rateLimitCloseAfter - 1);
  }
  console.log(
    `junk flood: 10 of 10 messages acked ${ackedAtMs} ms in; flooders (frames sent, closed at): ` +
      flooders
        .map((f) => `${f.sent} frames, ${f.refusals} RATE_LIMITED, closed ${f.closedAtMs} ms in`)
        .join("; "),
  );
  await Promise.all([sender.close(), reader.close()]);
});

test("1,600 rooms of 64-character names from 80 connections: every listrooms page under 128 KB, paging reaches all", async () => {
  const roomsPerConnection = defaultConfig.maxRoomsPerConnection;
  const connections = 1600 / roomsPerConnection;
  const started = Date.now();
  const roomName = (c: number, r: number) =>
    `${String(c).padStart(2, "0")}-${String(r).padStart(2, "0")}-`.padEnd(64, "r");
  const expected = new Set<string>();
  const clients: TestClient[] = [];
  // A few connections at a time: well under the stage's per-route throttling, as one client would.
  for (let batch = 0; batch < connections; batch += 8) {
    await Promise.all(
      Array.from({ length: Math.min(8, connections - batch) }, async (_, i) => {
        const c = batch + i;
        // The default room is the first of its 20; 19 joins make the rest (the write bucket holds 20).
        const client = await connect(`${wsUrl}?name=maker${c}&room=${roomName(c, 0)}`);
        clients.push(client);
        expected.add(roomName(c, 0));
        for (let r = 1; r < roomsPerConnection; r++) {
          await ask(client, { action: "joinroom", room: roomName(c, r) }, "joined");
          expected.add(roomName(c, r));
        }
      }),
    );
  }
  expect(expected.size).toBe(1600);
  const madeAtMs = Date.now();
  let listings = 1;

  /**
   * Every page of listrooms, following `next`, on a connection of its own (its read bucket
   * holds 40: a listing is 17 pages); the rooms seen and the largest page in bytes.
   */
  const listAll = async () => {
    const lister = await connect(`${wsUrl}?name=lister&room=lobby`);
    const seen = new Set<string>();
    let largest = 0;
    let pages = 0;
    let after: string | undefined;
    do {
      const page = await ask(
        lister,
        after === undefined ? { action: "listrooms" } : { action: "listrooms", after },
        "rooms",
      );
      largest = Math.max(largest, Buffer.byteLength(JSON.stringify(page)));
      pages++;
      for (const { room } of page.rooms as { room: string }[]) seen.add(room);
      after = (page.next as string | null) ?? undefined;
    } while (after !== undefined);
    await lister.close();
    return { seen, largest, pages };
  };
  // The directory follows the table's stream: list until every room has arrived in it.
  let listing = await listAll();
  while ([...expected].some((room) => !listing.seen.has(room))) {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    listing = await listAll();
    listings++;
  }
  expect(listing.largest).toBeLessThan(131_072);
  // Besides the 1,600: the listers' own lobby, while the stream has it.
  expect([...listing.seen].filter((room) => room !== "lobby").sort()).toEqual([...expected].sort());
  console.log(
    `directory of ${listing.seen.size} rooms: ${listing.pages} listrooms pages, the largest ${listing.largest} bytes; ` +
      `made in ${madeAtMs - started} ms, listed ${listings} time(s) in ${Date.now() - madeAtMs} ms`,
  );
  await Promise.all(clients.map((client) => client.close()));
});
