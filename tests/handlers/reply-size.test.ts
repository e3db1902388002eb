import { maxFrameBytes } from "../../handlers/reply-size";
import { putInBatches } from "../support/batches";
import { startChat, type Chat } from "./harness";

let chat: Chat;
beforeAll(async () => {
  chat = await startChat();
});
afterAll(() => chat.close());

const bytes = (reply: unknown) => Buffer.byteLength(JSON.stringify(reply), "utf8");

describe("no reply exceeds API Gateway's 131,072 bytes, and paging still reaches everything", () => {
  test("history and joined page 100 messages of 4,096 CJK characters by bytes", async () => {
    const alice = await chat.connect({ name: "alice", room: "cjk" });
    const text = "漢".repeat(4096);
    for (let i = 0; i < 100; i++) {
      await chat.deps.store.post({
        room: "cjk",
        from: "alice",
        connectionId: alice.connectionId,
        session: "session:cjk",
        text: `${i} ${text}`,
      });
    }
    const seen: string[] = [];
    let before: string | undefined;
    let pages = 0;
    do {
      const reply = await chat.send(alice, {
        action: "history",
        room: "cjk",
        limit: 100,
        ...(before && { before }),
      });
      expect(bytes(reply)).toBeLessThanOrEqual(maxFrameBytes);
      seen.push(...(reply.messages as { id: string }[]).map((m) => m.id));
      before = (reply.next as string | null) ?? undefined;
      pages++;
    } while (before);
    expect(new Set(seen).size).toBe(100);
    expect(seen).toHaveLength(100);
    expect(pages).toBeGreaterThan(1);

    const bob = await chat.connect({ name: "bob", room: "lobby" });
    const joined = await chat.send(bob, { action: "joinroom", room: "cjk" });
    expect(bytes(joined)).toBeLessThanOrEqual(maxFrameBytes);
    expect((joined.history as unknown[]).length).toBeGreaterThan(0);
    expect(joined.next).toEqual(expect.any(Number));
  });

  test("members pages 5,000 verified members with 32-character names and 256-character subjects", async () => {
    const owner = await chat.connect({ name: "owner", room: "crowd" });
    const { membership } = chat.table.service.entities;
    const expiresAt = Math.floor(Date.now() / 1000) + 3600;
    const crowd = Array.from({ length: 5000 }, (_, i) => ({
      room: "crowd",
      connectionId: `m${String(i).padStart(14, "0")}=`,
      name: `member-${String(i).padStart(5, "0")}`.padEnd(32, "x"),
      // Each entry then shows `user` too: a page is cut by bytes well before a read's 2,000 members.
      verified: true,
      userId: `subject-${String(i).padStart(5, "0")}`.padEnd(256, "s"),
      expiresAt,
    }));
    await putInBatches(crowd, 500, (batch) => membership.put(batch).go());

    const names: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const reply = await chat.send(owner, { action: "members", room: "crowd", ...(after && { after }) });
      expect(bytes(reply)).toBeLessThanOrEqual(maxFrameBytes);
      names.push(...(reply.members as { name: string }[]).map((m) => m.name));
      after = (reply.next as string | null) ?? undefined;
      pages++;
    } while (after);
    // 5,000 members of about 320 bytes: more pages than the three reads of 2,000 would make.
    expect(pages).toBeGreaterThan(3);
    expect(names).toHaveLength(5001);
    expect(new Set(names).size).toBe(5001);
  }, 180_000);
});
