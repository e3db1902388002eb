import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { createChatStore } from "../../model/store";
import { freshTable, type FreshTable } from "../support/table";
import { recordCommands } from "./helpers";

let t: FreshTable;
beforeAll(async () => {
  t = await freshTable("model-no-scan");
});
afterAll(() => t.drop());

describe("no Scan, ever", () => {
  it("a full chat scenario sends only GetItem, Query and writes — never a Scan", async () => {
    const recorder = recordCommands(t.client);
    const store = createChatStore(t.service);
    const alice = await store.connect({
      connectionId: "scan-alice-0001=",
      name: "alice",
      defaultRoom: "lobby",
    });
    const bob = await store.connect({ connectionId: "scan-bob-000001=", name: "bob", defaultRoom: "lobby" });
    await store.getConnection(alice.connectionId);
    await store.join(alice, "games");
    await store.join(alice, "games");
    await store.join(bob, "games");
    await store.post({
      room: "lobby",
      from: "alice",
      connectionId: alice.connectionId,
      session: "session:a",
      text: "hello",
    });
    await store.post({
      room: "games",
      from: "bob",
      connectionId: bob.connectionId,
      session: "session:b",
      text: "x",
      clientId: "1",
    });
    const { message } = await store.post({
      room: "games",
      from: "bob",
      connectionId: bob.connectionId,
      session: "session:b",
      text: "x",
      clientId: "1",
    });
    await store.membersOf("lobby");
    await store.getMembership("games", bob.connectionId);
    await store.history("games", { limit: 20 });
    await store.listRooms();
    await store.roomInfo("games");
    await store.takeToken(`conn#${bob.connectionId}#write`, { limit: 5, windowSeconds: 10 });
    await store.applyRoomChanges([
      { room: "games", connectionId: "no-scan-1=", delta: 1, sequenceNumber: "1" },
    ]);
    await store.smallRoomMembers("games", 10);
    await store.markSettled(message);
    await store.advanceHead(message);
    await store.lastSeq("games");
    await store.deliveredAmong([{ room: "games", seq: 1 }]);
    await store.membersFrom("lobby", undefined, 10);
    await store.removeGone("lobby", ["scan-nobody-001="], 0);
    await store.leave(bob.connectionId, "games");
    await store.disconnect(alice.connectionId);
    await store.disconnect(bob.connectionId);
    recorder.stop();

    const used = new Set(recorder.names());
    expect(used.has("ScanCommand")).toBe(false);
    expect([...used].sort()).toEqual(
      expect.arrayContaining(["GetItemCommand", "QueryCommand", "TransactWriteItemsCommand"]),
    );
    const allowed = [
      "GetItemCommand",
      "BatchGetItemCommand",
      "QueryCommand",
      "PutItemCommand",
      "DeleteItemCommand",
      "UpdateItemCommand",
      "BatchWriteItemCommand",
      "TransactWriteItemsCommand",
    ];
    for (const name of used) expect(allowed).toContain(name);
  });

  it("no runtime file under model/ or handlers/ issues a Scan", () => {
    const root = join(__dirname, "..", "..");
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir)) {
        const path = join(dir, entry);
        if (statSync(path).isDirectory()) walk(path);
        else if (/\.(ts|js|mjs|cjs)$/.test(entry)) files.push(path);
      }
    };
    for (const dir of ["model", "handlers"]) {
      try {
        walk(join(root, dir));
      } catch {
        // a directory that does not exist yet holds no Scan
      }
    }
    expect(files.length).toBeGreaterThan(0);
    const scan = /\bScanCommand\b|\bParallelScan\b|\.scan\b|["']Scan["']|\bExecuteStatement/;
    const offenders = files
      .filter((file) => scan.test(readFileSync(file, "utf8")))
      .map((file) => relative(root, file));
    expect(offenders).toEqual([]);
  });
});
