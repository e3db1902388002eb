import { roomShard } from "../../model/entities/room";
import { createChatService } from "../../model/service";
import { createChatStore } from "../../model/store";
import { putInBatches } from "../support/batches";
import { wsClient } from "../support/events";
import { startChat, type Chat } from "./harness";

// Issue 19 points 2 (listrooms for everyone) and 6 (the members cursor oracle), and the
// members page that stopped at a read of only expired memberships (issue 18).

const bytes = (frame: unknown) => Buffer.byteLength(JSON.stringify(frame));

let chat: Chat;
beforeAll(async () => {
  chat = await startChat();
});
afterAll(() => chat.close());

describe("listrooms", () => {
  test("a directory of 1,600 rooms with 64-character names: every page under 128 KB, paging reaches every room once, in order", async () => {
    const asker = await chat.connect({ name: "asker", room: "a-lobby" });
    const { room: directory } = chat.table.service.entities;
    const names = Array.from({ length: 1600 }, (_, i) =>
      `room-${String(i).padStart(4, "0")}-`.padEnd(64, "z"),
    );
    await putInBatches(names, 100, (batch) =>
      directory.put(batch.map((room) => ({ shard: roomShard(room), room, members: 3 }))).go(),
    );

    const listed: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const reply = await chat.send(asker, { action: "listrooms", ...(after && { after }) });
      expect(reply.type).toBe("rooms");
      expect(bytes(reply)).toBeLessThan(128 * 1024);
      listed.push(...(reply.rooms as { room: string }[]).map((r) => r.room));
      after = (reply.next as string | null) ?? undefined;
      pages++;
    } while (after && pages < 100);
    expect(after).toBeUndefined();
    expect(listed).toEqual([...names, "a-lobby"].sort());
    expect(pages).toBeGreaterThanOrEqual(16);
  }, 120_000);

  test("any `after` the server did not issue is INVALID", async () => {
    const asker = await chat.connect({ name: "forger", room: "a-lobby" });
    for (const after of ["room-0100", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "x"]) {
      expect(await chat.send(asker, { action: "listrooms", after })).toMatchObject({
        code: "INVALID",
        message: "after: must be a cursor returned as `next` by listrooms",
      });
    }
  });
});

describe("members cursors", () => {
  test("the cursor oracle: no `after` value recovers a connection id", async () => {
    const victim = await chat.connect({ name: "victim", room: "oracle" });
    const spy = await chat.connect({ name: "spy", room: "oracle" });
    const { membership } = chat.table.service.entities;
    const expiresAt = Math.floor(Date.now() / 1000) + 3600;
    // Enough members that `members` pages, so the spy holds real cursors to tamper with.
    const crowd = Array.from({ length: 2500 }, (_, i) => ({
      room: "oracle",
      connectionId: `c${String(i).padStart(14, "0")}=`,
      name: "member",
      expiresAt,
    }));
    await putInBatches(crowd, 500, (batch) => membership.put(batch).go());

    const first = await chat.send(spy, { action: "members", room: "oracle" });
    const next = first.next as string;
    expect(next).toEqual(expect.any(String));
    // Opaque: no connection id, nor any 6 characters of one, shows in the cursor or its decoding.
    const decoded = Buffer.from(next, "base64url").toString("latin1");
    for (const id of [victim.connectionId, spy.connectionId, ...crowd.map((m) => m.connectionId)]) {
      for (let start = 0; start + 6 <= id.length; start += 3) {
        expect(next).not.toContain(id.slice(start, start + 6));
        expect(decoded).not.toContain(id.slice(start, start + 6));
      }
    }
    // The oracle of the review: `after` = guessed prefixes of the victim's id. Every guess is INVALID.
    const guesses = [
      "A",
      "M",
      "c",
      victim.connectionId.slice(0, 1),
      victim.connectionId.slice(0, 8),
      victim.connectionId,
    ];
    const tampered = `${next.slice(0, 20)}${next[20] === "A" ? "B" : "A"}${next.slice(21)}`;
    for (const after of [...guesses, tampered]) {
      const reply = await chat.send(spy, { action: "members", room: "oracle", after });
      expect(reply).toMatchObject({ type: "error", code: "INVALID", action: "members" });
      expect(JSON.stringify(reply)).not.toContain(victim.connectionId.slice(0, 6));
    }
    // A cursor is good for its own room only, and not for listrooms.
    await chat.send(spy, { action: "joinroom", room: "oracle-2" });
    expect(await chat.send(spy, { action: "members", room: "oracle-2", after: next })).toMatchObject({
      code: "INVALID",
    });
    expect(await chat.send(spy, { action: "listrooms", after: next })).toMatchObject({ code: "INVALID" });
    // The real cursor pages on.
    expect(await chat.send(spy, { action: "members", room: "oracle", after: next })).toMatchObject({
      type: "members",
    });
  });

  test("paging goes on past a read that held only expired (not yet deleted) memberships", async () => {
    const { membership } = chat.table.service.entities;
    const hour = 3600;
    const nowSeconds = Math.floor(Date.now() / 1000);
    // 2,000 memberships (one read's worth) that expire in an hour, sorting before everyone else...
    const stale = Array.from({ length: 2000 }, (_, i) => ({
      room: "stale",
      connectionId: `A${String(i).padStart(14, "0")}=`,
      name: "ghost",
      expiresAt: nowSeconds + hour,
    }));
    await putInBatches(stale, 500, (batch) => membership.put(batch).go());
    // ...and live ones after them, the reader among them.
    const live = ["x", "y", "z"].map((c) => ({
      room: "stale",
      connectionId: `${c.repeat(15)}=`,
      name: `live-${c}`,
      expiresAt: nowSeconds + 5 * hour,
    }));
    await membership.put(live).go();
    // Two hours on: the first 2,000 have expired, and DynamoDB has not deleted them (AWS takes days).
    const later = {
      ...chat.deps,
      store: createChatStore(createChatService(chat.table.doc, chat.table.tableName), {
        now: () => Date.now() + 2 * hour * 1000,
      }),
    };
    // The reader is the last live member: no $connect needed to read as it.
    const reader = wsClient({ connectionId: live[2].connectionId });

    const names: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const reply = await chat.send(
        reader,
        { action: "members", room: "stale", ...(after && { after }) },
        later,
      );
      expect(reply.type).toBe("members");
      names.push(...(reply.members as { name: string }[]).map((m) => m.name));
      after = (reply.next as string | null) ?? undefined;
      pages++;
    } while (after && pages < 10);
    expect(names.sort()).toEqual(["live-x", "live-y", "live-z"]);
  });
});
