import { DeleteConnectionCommand } from "@aws-sdk/client-apigatewaymanagementapi";
import type { Browser, Page, WebSocketRoute } from "playwright-core";
import type { LocalStack } from "../../local/stack";
import { createDocumentClient, createDynamoClient } from "../../model/client";
import { createChatService } from "../../model/service";
import { createChatStore } from "../../model/store";
import { managementClient } from "../support/local-stack";
import {
  delivered,
  launchChromium,
  log,
  openChat as openChatPage,
  say,
  startWebStack,
} from "../support/web-page";

// The web client in headless Chromium against the local stack: gateway, real handlers, DynamoDB Local.
const xss = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">`;

jest.setTimeout(60_000);

let stack: LocalStack;
let browser: Browser;

beforeAll(async () => {
  stack = await startWebStack();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const openChat = (
  name: string,
  room: string,
  intercept?: (ws: WebSocketRoute) => void,
  { fakeClock = false } = {},
): Promise<Page> => openChatPage(browser, stack.httpUrl, name, room, { intercept, fakeClock });

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

  it.each([
    [1100, 650],
    [390, 844],
    [360, 640],
  ])("fits a %i×%i window: no sideways scrolling, room list and composer in view", async (width, height) => {
    await alice.setViewportSize({ width, height });
    const roomList = alice.locator("#room-list");
    const inView = async (id: string) => {
      const box = (await alice.locator(id).boundingBox())!;
      expect([id, box]).not.toEqual([id, null]);
      // Inside the window's width, and big enough to use.
      expect([id, box.x >= 0 && box.x + box.width <= width]).toEqual([id, true]);
      expect([id, box.width >= 24 && box.height >= 16]).toEqual([id, true]);
    };
    const sidewaysScroll = () =>
      alice.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    // Narrow, the sidebar is a drawer: hidden until Rooms opens it, closed again by picking a room.
    const drawer = alice.getByRole("button", { name: "Rooms", exact: true });
    const narrow = width <= 640;
    expect(await drawer.isVisible()).toBe(narrow);
    if (narrow) {
      await roomList.waitFor({ state: "hidden" });
      await drawer.click();
      expect(await drawer.getAttribute("aria-expanded")).toBe("true");
      // The open drawer covers Rooms: it has a Close of its own.
      await inView("#room-list");
      await alice.getByRole("button", { name: "Close", exact: true }).click();
      await roomList.waitFor({ state: "hidden" });
      await drawer.click();
    }
    await inView("#room-list");
    expect(await sidewaysScroll()).toBe(0);
    await roomList.getByRole("button", { name: "#dev" }).click();
    if (narrow) await roomList.waitFor({ state: "hidden" });
    for (const id of ["#message", "#send"]) await inView(id);
    expect(await sidewaysScroll()).toBe(0);
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

  it("puts a message that arrives late (a retried fan-out) where its seq sorts", async () => {
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

describe("web client: resume, reconnects and the clock", () => {
  /** Every frame the page sent, parsed, across all its sockets; `sockets` counts connections. */
  function recordFrames() {
    const sent: Record<string, unknown>[] = [];
    const record = { sent, sockets: 0 };
    const intercept = (ws: WebSocketRoute) => {
      record.sockets++;
      const server = ws.connectToServer();
      ws.onMessage((message) => {
        sent.push(JSON.parse(String(message)) as Record<string, unknown>);
        server.send(message);
      });
    };
    return { record, intercept };
  }

  const texts = (page: Page, room: string) => log(page, room).locator(".message .text").allTextContents();

  /** The connection id the server knows `name` by in `room`. */
  async function connectionOf(room: string, name: string) {
    const client = createDynamoClient(stack.dynamodbEndpoint);
    const store = createChatStore(createChatService(createDocumentClient(client), stack.tableName));
    const members = await store.membersOf(room, { consistent: true });
    client.destroy();
    return members.find((m) => m.name === name)!.connectionId;
  }

  it("resumes after the server closes its socket: what was sent meanwhile appears once, in order", async () => {
    const { record, intercept } = recordFrames();
    const mia = await openChat("mia", "away", intercept, { fakeClock: true });
    const ned = await openChat("ned", "away");
    await say(ned, "before");
    await delivered(mia, "away", "before").waitFor();
    // Timers stand still from here: mia's reconnect waits until the test moves her clock.
    await mia.clock.pauseAt(Date.now() + 1000);

    const management = managementClient(`http://127.0.0.1:${stack.port}`);
    await management.send(new DeleteConnectionCommand({ ConnectionId: await connectionOf("away", "mia") }));
    management.destroy();
    await mia.getByText(/reconnecting in/).waitFor();
    for (const text of ["while away 1", "while away 2", "while away 3"]) await say(ned, text);
    await delivered(ned, "away", "while away 3").waitFor();

    await mia.clock.runFor(31_000); // past the first backoff
    // A late live push of the newest can come before the resume reply: wait for all three.
    for (const text of ["while away 1", "while away 2", "while away 3"])
      await delivered(mia, "away", text).waitFor();
    expect(await texts(mia, "away")).toEqual(["before", "while away 1", "while away 2", "while away 3"]);
    expect(record.sockets).toBe(2);
    expect(record.sent.filter((f) => f.action === "resume")).toEqual([
      { action: "resume", rooms: [{ room: "away", after: 1 }] },
    ]);
    await mia.context().close();
    await ned.context().close();
  });

  it("resumes after a reload: its name and rooms come back, with what was sent meanwhile", async () => {
    const olga = await openChat("olga", "reload-a");
    await olga.getByLabel("Join a room").fill("reload-b");
    await olga.getByRole("button", { name: "Join", exact: true }).click();
    await olga.getByRole("heading", { name: "#reload-b" }).waitFor();
    const pat = await openChat("pat", "reload-a");
    await pat.getByLabel("Join a room").fill("reload-b");
    await pat.getByRole("button", { name: "Join", exact: true }).click();
    await pat.getByRole("heading", { name: "#reload-b" }).waitFor();
    await say(pat, "b before");
    await delivered(olga, "reload-b", "b before").waitFor();

    // Olga's tab goes away (its socket closes), Pat keeps talking, then the tab comes back.
    await olga.goto("about:blank");
    await say(pat, "b while away");
    await pat.locator("#room-list").getByRole("button", { name: "#reload-a" }).click();
    await say(pat, "a while away");
    await delivered(pat, "reload-a", "a while away").waitFor();
    await olga.goto(stack.httpUrl);

    await olga.getByText("Connected as olga").waitFor();
    await delivered(olga, "reload-a", "a while away").waitFor();
    // reload-b is not the room shown: its log is in the page, hidden.
    await delivered(olga, "reload-b", "b while away").waitFor({ state: "attached" });
    expect(await olga.locator("#room-list").getByRole("button").allTextContents()).toEqual([
      "#reload-a",
      "#reload-b",
    ]);
    expect(await texts(olga, "reload-a")).toEqual(["a while away"]);
    expect(await texts(olga, "reload-b")).toEqual(["b while away"]);
    // What came before the reload is one click away.
    await olga.locator("#room-list").getByRole("button", { name: "#reload-b" }).click();
    await olga.getByRole("button", { name: "Load older messages" }).click();
    await delivered(olga, "reload-b", "b before").waitFor();
    expect(await texts(olga, "reload-b")).toEqual(["b before", "b while away"]);
    await olga.context().close();
    await pat.context().close();
    // Two users, two rooms and a reload: more steps than the file's 60 s allow on a loaded machine.
  }, 150_000);

  it("keeps a quiet connection alive, reconnects before the 2-hour cap and backs off after drops", async () => {
    const { record, intercept } = recordFrames();
    const quinn = await openChat("quinn", "clockwork", intercept, { fakeClock: true });
    await quinn.clock.pauseAt(Date.now() + 1000);
    const listrooms = () => record.sent.filter((f) => f.action === "listrooms").length;

    // Keep-alive: one frame after 9 quiet minutes, not before.
    const before = listrooms();
    await quinn.clock.runFor(8 * 60_000);
    expect(listrooms()).toBe(before);
    await quinn.clock.runFor(60_000 + 1000);
    await until(() => listrooms() === before + 1);

    // Before API Gateway's 2-hour cap (105 to 115 minutes after connecting), a new socket that resumes.
    expect(record.sockets).toBe(1);
    await quinn.clock.runFor(95 * 60_000);
    expect(record.sockets).toBe(1);
    await quinn.clock.runFor(12 * 60_000);
    await until(
      () => record.sent.some((f) => f.action === "resume"),
      async () =>
        `${record.sockets} socket(s), sent ${JSON.stringify(record.sent.map((f) => f.action))}, ` +
        `status "${await quinn.locator("#status").textContent()}"`,
    );
    expect(record.sockets).toBe(2);
    expect(record.sent.filter((f) => f.action === "resume")).toEqual([
      { action: "resume", rooms: [{ room: "clockwork", after: 0 }] },
    ]);

    // Drops: each retry waits longer (jittered between half and all of 0.5 s, 1 s, 2 s, …).
    const waits: number[] = [];
    for (let drop = 0; drop < 3; drop++) {
      await dropConnection(quinn);
      await quinn.getByText(/reconnecting in/).waitFor();
      const sockets = record.sockets;
      let waited = 0;
      while (record.sockets === sockets) {
        await quinn.clock.runFor(100);
        waited += 100;
        if (waited > 60_000) throw new Error("no reconnect within a minute of fake time");
      }
      waits.push(waited);
      await until(() => record.sent.filter((f) => f.action === "resume").length === drop + 2);
    }
    // The backoff resets once a connection opens: each of these is a first retry (250-500 ms).
    for (const wait of waits) {
      expect(wait).toBeGreaterThanOrEqual(200);
      expect(wait).toBeLessThanOrEqual(600);
    }
    await quinn.context().close();
  });
});

/**
 * Polls `check` in the test (not in the page, whose timers may be stopped) until it holds;
 * `explain` says what the page was doing when it did not.
 */
async function until(check: () => boolean, explain?: () => Promise<string>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(`condition not met in time${explain ? `: ${await explain()}` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
