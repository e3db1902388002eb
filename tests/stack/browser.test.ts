import { randomUUID } from "node:crypto";
import { chromium, type Browser, type Page, type WebSocketRoute } from "playwright-core";
import { createLogger } from "../../handlers/log";
import { freePort } from "../../local/dynamodb-local";
import { startLocalStack, type LocalStack } from "../../local/stack";
import { createDocumentClient, createDynamoClient } from "../../model/client";
import { createChatService } from "../../model/service";
import { createChatStore } from "../../model/store";
import { findChromium } from "../support/chromium";

// The web client in headless Chromium (CHROMIUM_PATH or an installed one, see
// tests/support/chromium.ts) against the local stack: gateway, real handlers, DynamoDB Local.
const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const xss = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">`;

jest.setTimeout(60_000);

let stack: LocalStack;
let browser: Browser;

beforeAll(async () => {
  stack = await startLocalStack({
    port: await freePort(),
    dynamodbEndpoint: process.env.DYNAMODB_ENDPOINT,
    tableName: `roomcast-web-${randomUUID().slice(0, 8)}`,
    // Only problems reach the test output.
    logger: createLogger({}, (line) => {
      if (!line.startsWith('{"level":"info"')) console.warn(line);
    }),
  });
  browser = await chromium.launch({ executablePath: findChromium(), args: chromiumArgs });
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/**
 * A fresh browser profile on the page, connected as `name` with `room` as its default room;
 * `intercept` sits between the page and the gateway (it must connect and forward itself).
 */
async function openChat(name: string, room: string, intercept?: (ws: WebSocketRoute) => void): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  if (intercept) await page.routeWebSocket(/./, intercept);
  await page.goto(stack.httpUrl);
  // The server URL comes from /config.json.
  await page.waitForFunction(() => (document.getElementById("ws-url") as HTMLInputElement).value !== "");
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Room", { exact: true }).fill(room);
  await page.getByRole("button", { name: "Connect", exact: true }).click();
  await page.getByRole("heading", { name: `#${room}` }).waitFor();
  await page.locator("#message:enabled").waitFor();
  return page;
}

const log = (page: Page, room: string) => page.getByRole("log", { name: `Messages in ${room}` });

/** A message in the room's log that the server has stored (acknowledged, or received). */
const delivered = (page: Page, room: string, text: string) =>
  log(page, room)
    .locator(".message:not(.pending)")
    .filter({ has: page.locator(".text").getByText(text, { exact: true }) });

async function say(page: Page, text: string) {
  await page.getByLabel("Message", { exact: true }).fill(text);
  await page.getByRole("button", { name: "Send" }).click();
}

/** Drops the page's WebSocket, remembering it so `reconnected` can tell the next one apart. */
async function dropConnection(page: Page) {
  await page.evaluate(() => {
    const w = window as unknown as { roomcast: { socket: WebSocket }; droppedSocket: WebSocket };
    w.droppedSocket = w.roomcast.socket;
    w.roomcast.socket.close();
  });
}

/** Resolves once the page has a new, open WebSocket. */
const reconnected = (page: Page) =>
  page.waitForFunction(() => {
    const w = window as unknown as { roomcast: { socket: WebSocket | null }; droppedSocket: WebSocket };
    return w.roomcast.socket !== w.droppedSocket && w.roomcast.socket?.readyState === WebSocket.OPEN;
  });

describe("web client", () => {
  let alice: Page;
  let bob: Page;

  beforeAll(async () => {
    alice = await openChat("alice", "dev");
    bob = await openChat("bob", "dev");
  });

  it("shows presence and member counts", async () => {
    await log(alice, "dev").getByText("bob joined").waitFor();
    await alice.locator("#member-count", { hasText: "2 members" }).waitFor();
    await bob.locator("#member-count", { hasText: "2 members" }).waitFor();

    await alice.getByRole("button", { name: "Members", exact: true }).click();
    const members = alice.getByRole("list", { name: "Members of this room" });
    await members.getByText("bob", { exact: true }).waitFor();
    expect((await members.locator("li").allTextContents()).sort()).toEqual(["alice", "bob"]);
  });

  it("delivers a message from alice to bob and acknowledges it to alice", async () => {
    await say(alice, "hello from alice");
    await delivered(bob, "dev", "hello from alice").waitFor();
    await delivered(alice, "dev", "hello from alice").waitFor();
    expect(await bob.locator(".message .from").last().textContent()).toBe("alice");
  });

  it("shows markup in a message as text and never runs it", async () => {
    await say(bob, xss);
    const received = delivered(alice, "dev", xss);
    await received.waitFor();
    expect(await received.locator(".text").textContent()).toBe(xss);
    for (const page of [alice, bob]) {
      await delivered(page, "dev", xss).waitFor();
      expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      expect(await log(page, "dev").locator("script, img").count()).toBe(0);
    }
  });

  it("gives a late joiner the room's history, oldest first", async () => {
    const carol = await openChat("carol", "dev");
    const texts = await log(carol, "dev").locator(".message .text").allTextContents();
    expect(texts).toEqual(["hello from alice", xss]);
    await carol.context().close();
    await log(alice, "dev").getByText("carol left").waitFor();
  });

  it("joins, switches and lists rooms", async () => {
    await alice.getByLabel("Join a room").fill("ops");
    await alice.getByRole("button", { name: "Join", exact: true }).click();
    await alice.getByRole("heading", { name: "#ops" }).waitFor();
    await say(alice, "only in ops");
    await delivered(alice, "ops", "only in ops").waitFor();

    // Room counts follow the table's stream, a moment behind the join: refresh until they are in.
    const allRooms = alice.locator("#all-rooms");
    const listed = async () =>
      (await allRooms.getByRole("button", { name: /^Join #ops/ }).count()) > 0 &&
      (await allRooms.getByRole("button", { name: /^Join #dev \(2 members\)/ }).count()) > 0;
    for (let attempt = 0; attempt < 40 && !(await listed()); attempt++) {
      await alice.getByRole("button", { name: "Refresh" }).click();
      await alice.waitForTimeout(250);
    }
    expect(await listed()).toBe(true);

    await alice.locator("#room-list").getByRole("button", { name: "#dev" }).click();
    await alice.getByRole("heading", { name: "#dev" }).waitFor();
    expect(await log(alice, "dev").isVisible()).toBe(true);
    expect(await log(alice, "ops").isVisible()).toBe(false);
  });

  it("shows an error frame to the user", async () => {
    await bob.evaluate(() =>
      (window as unknown as { roomcast: { socket: WebSocket } }).roomcast.socket.send("{}"),
    );
    await bob
      .getByRole("alert")
      .getByText(/UNKNOWN_ACTION/)
      .waitFor();
  });

  it("marks a rejected message as not sent and keeps sending the next ones", async () => {
    // The server refuses control characters in message text.
    await say(bob, "ring the bell \u0007");
    await bob
      .getByRole("alert")
      .getByText(/INVALID: message/)
      .waitFor();
    await log(bob, "dev").locator(".message.failed").getByRole("button", { name: /Retry/ }).waitFor();

    await say(bob, "after the error");
    await delivered(alice, "dev", "after the error").waitFor();
  });

  it("reconnects after a drop, rejoins its rooms and sends what was typed meanwhile", async () => {
    await dropConnection(alice);
    // Typed while the connection is down (or already back): the outbox sends it once dev is rejoined.
    await say(alice, "sent across a reconnect");
    await reconnected(alice);
    await delivered(bob, "dev", "sent across a reconnect").waitFor();
    await delivered(alice, "dev", "sent across a reconnect").waitFor();
    for (const page of [alice, bob]) {
      expect(await log(page, "dev").getByText("sent across a reconnect", { exact: true }).count()).toBe(1);
    }
    await log(bob, "dev").getByText("alice left").waitFor();

    // ops was rejoined too: bob joins it and hears alice there.
    await bob.getByLabel("Join a room").fill("ops");
    await bob.getByRole("button", { name: "Join", exact: true }).click();
    await delivered(bob, "ops", "only in ops").waitFor();
    await alice.locator("#room-list").getByRole("button", { name: "#ops" }).click();
    await say(alice, "still in ops");
    await delivered(bob, "ops", "still in ops").waitFor();
  });

  it("leaves a room", async () => {
    await bob.locator("#room-list").getByRole("button", { name: "#ops" }).click();
    await bob.getByRole("button", { name: "Leave", exact: true }).click();
    await log(alice, "ops").getByText("bob left").waitFor();
    await bob.getByRole("heading", { name: "#dev" }).waitFor();
    expect(await bob.locator("#room-list").getByRole("button").allTextContents()).toEqual(["#dev"]);
  });

  it("loads older messages page by page", async () => {
    const client = createDynamoClient(stack.dynamodbEndpoint);
    const store = createChatStore(createChatService(createDocumentClient(client), stack.tableName));
    for (let i = 1; i <= 25; i++) {
      await store.post({
        room: "archive",
        from: "seed",
        connectionId: "seed",
        session: "seed",
        text: `old ${i}`,
      });
    }
    client.destroy();
    // The stream has fanned the seeds out to nobody before bob joins: a seed still in the
    // stream when he joins would reach him live, beside the history page.
    await stack.settled();

    await bob.getByLabel("Join a room").fill("archive");
    await bob.getByRole("button", { name: "Join", exact: true }).click();
    const texts = () => log(bob, "archive").locator(".message .text").allTextContents();
    await delivered(bob, "archive", "old 25").waitFor();
    expect(await texts()).toEqual(Array.from({ length: 20 }, (_, i) => `old ${i + 6}`));

    await bob.getByRole("button", { name: "Load older messages" }).click();
    await delivered(bob, "archive", "old 1").waitFor();
    expect(await texts()).toEqual(Array.from({ length: 25 }, (_, i) => `old ${i + 1}`));
    await bob.getByRole("button", { name: "Load older messages" }).waitFor({ state: "hidden" });
  });

  it("looks decent", async () => {
    await alice.setViewportSize({ width: 1100, height: 650 });
    await alice.locator("#room-list").getByRole("button", { name: "#dev" }).click();
    await alice.screenshot({ path: "/tmp/roomcast-page.png" });
  });
});

describe("web client and the frames AWS sends", () => {
  /** Parses what crosses an intercepted socket. */
  const parse = (message: string | Buffer) => JSON.parse(String(message)) as Record<string, unknown>;

  it("shows the room list as soon as it connects", async () => {
    const erin = await openChat("erin", "just-arrived");
    // `dev` has had members since the first tests; no Refresh click.
    await erin
      .locator("#all-rooms")
      .getByRole("button", { name: /^Join #dev/ })
      .waitFor();
    await erin.context().close();
  });

  it("keeps the session the server issued and sends it when it reconnects", async () => {
    const urls: string[] = [];
    const page = await openChat("frank", "sessions", (ws) => {
      urls.push(ws.url());
      ws.connectToServer();
    });
    // A fresh browser has none: it asks with the `session` action once the socket is open.
    const issued = await page.waitForFunction(() => localStorage.getItem("roomcast.session"));
    await dropConnection(page);
    await reconnected(page);
    const sessions = urls.map((url) => new URL(url).searchParams.get("session"));
    expect(sessions).toHaveLength(2);
    expect(sessions[0]).toBeNull();
    expect(sessions[1]).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(sessions[1]).toBe(await issued.jsonValue());
    await page.context().close();
  });

  it("marks a message that got API Gateway's type-less error frame and resends it with its clientId", async () => {
    const attempts: Record<string, unknown>[] = [];
    let releaseResend!: () => void;
    const resendAllowed = new Promise<void>((done) => (releaseResend = done));
    const gina = await openChat("gina", "faults", (ws) => {
      const server = ws.connectToServer();
      ws.onMessage(async (message) => {
        const frame = parse(message);
        if (frame.action !== "sendmessage") return server.send(message);
        attempts.push(frame);
        if (attempts.length === 1) {
          // What AWS sends for a crashed or timed-out integration: no type, no action.
          const requestId = "L0SM9FkbvHcFzTA=";
          return ws.send(
            `{"message": "Internal server error", "connectionId":"x", "requestId":"${requestId}"}`,
          );
        }
        await resendAllowed;
        server.send(message);
      });
    });
    const hank = await openChat("hank", "faults");

    await say(gina, "through a gateway error");
    const mine = log(gina, "faults").locator(".message").filter({ hasText: "through a gateway error" });
    await mine.and(gina.locator(".resending")).waitFor();
    await gina
      .getByRole("alert")
      .getByText(/Internal server error/)
      .waitFor();
    releaseResend();

    await delivered(hank, "faults", "through a gateway error").waitFor();
    await delivered(gina, "faults", "through a gateway error").waitFor();
    expect(attempts).toHaveLength(2);
    expect(attempts[1].clientId).toBe(attempts[0].clientId);
    // The outbox moved on: the next message goes through.
    await say(gina, "and the next one");
    await delivered(hank, "faults", "and the next one").waitFor();
    expect(await log(hank, "faults").getByText("through a gateway error", { exact: true }).count()).toBe(1);
    await gina.context().close();
    await hank.context().close();
  });

  it("shows a message delivered twice (at least once delivery) only once", async () => {
    const ivan = await openChat("ivan", "repeats", (ws) => {
      const server = ws.connectToServer();
      server.onMessage((message) => {
        ws.send(message);
        if (parse(message).type === "message") ws.send(message);
      });
    });
    const jane = await openChat("jane", "repeats");
    await say(jane, "said once");
    await say(jane, "and then");
    await delivered(ivan, "repeats", "and then").waitFor();
    expect(await log(ivan, "repeats").locator(".message .text").allTextContents()).toEqual([
      "said once",
      "and then",
    ]);
    await ivan.context().close();
    await jane.context().close();
  });

  it("puts a message that arrives late (a retried fan-out) where its id sorts", async () => {
    // The first message is held back until the second has been shown, as after a retried fan-out.
    let held: ((message: string | Buffer) => void) | undefined;
    const kim = await openChat("kim", "late", (ws) => {
      const server = ws.connectToServer();
      let first: string | Buffer | undefined;
      server.onMessage((message) => {
        const frame = parse(message);
        if (frame.type === "message" && frame.text === "first" && !first) {
          first = message;
          held = () => ws.send(first!);
          return;
        }
        ws.send(message);
      });
    });
    const lee = await openChat("lee", "late");
    await say(lee, "first");
    await say(lee, "second");
    await delivered(kim, "late", "second").waitFor();
    expect(held).toBeDefined();
    held!("");
    await delivered(kim, "late", "first").waitFor();
    expect(await log(kim, "late").locator(".message .text").allTextContents()).toEqual(["first", "second"]);
    await kim.context().close();
    await lee.context().close();
  });
});
