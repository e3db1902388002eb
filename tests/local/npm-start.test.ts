import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { routes } from "../../handlers/routes";
import { dataAccessKey, withAccessKey } from "../../local/data-key";
import { freePort, pidFileName } from "../../local/dynamodb-local";
import { createDynamoClient } from "../../model/client";
import { alive, projectCopy, repo, runInGroup } from "../support/child-process";
import { connect } from "../support/ws-client";

// `npm start` as a user runs it: in a terminal's process group, stopped with Ctrl-C.
jest.setTimeout(120_000);

/**
 * `npm start` exactly as typed (npm -> node -> DynamoDB Local's java), in its own process group.
 * Not `npx tsx local/start.ts`: tsx's CLI relays a signal and SIGKILLs its child when the child has
 * not reported it within 30 ms (twice), which a loaded machine misses: a Ctrl-C then cut the stop short.
 */
const npmStart = (args: string[], port: number, cwd = repo, env: NodeJS.ProcessEnv = {}) =>
  runInGroup("npm", ["start", "--", ...args], {
    cwd,
    env: { ...process.env, PORT: String(port), ...env },
  });

/** Pids of every DynamoDB Local java serving `dataDir`, read from `ps`. */
function dynamoDbLocalsOn(dataDir: string): number[] {
  const lines = execFileSync("ps", ["-eo", "pid=,command="], { encoding: "utf8" }).split("\n");
  return lines
    .filter((line) => line.includes("DynamoDBLocal.jar") && line.includes(`-dbPath ${dataDir} `))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

it("starts step by step, prints the URLs and a wscat line, serves the page, and Ctrl-C leaves nothing running", async () => {
  const port = await freePort();
  const started = performance.now();
  const start = npmStart(["--in-memory"], port);
  try {
    const output = await start.printed("Ctrl-C stops everything.");
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `npm start -> ready: ${seconds} s from spawn; it reports ${/is ready in ([\d.]+ s)/.exec(output)?.[1]}`,
    );

    // Steps are numbered [n/total]; the total grows with the stack (queues, mappings), the order does not.
    const total = /^\[1\/(\d+)\]/m.exec(output)![1];
    const step = (n: number | string, rest: string) => new RegExp(`^\\[${n}/${total}\\] ${rest}$`, "m");
    expect(output).toMatch(step(1, `gateway: listening on port ${port} in \\d+\\.\\d s`));
    expect(output).toMatch(step(2, "DynamoDB Local \\(in memory\\) \\.\\.\\."));
    expect(output).toMatch(
      step(
        2,
        "DynamoDB Local \\(in memory\\): ready at http://127\\.0\\.0\\.1:\\d+ \\(pid \\d+\\) in \\d+\\.\\d s",
      ),
    );
    expect(output).toMatch(step(3, "table roomcast-local: created in \\d+\\.\\d s"));
    expect(output).toMatch(step("\\d", `handlers: ${routes.length} routes loaded in \\d+\\.\\d s`));
    expect(output).toContain(
      "Throttling 500 messages/s, burst 1000, for each route (THROTTLING_RATE_LIMIT / THROTTLING_BURST_LIMIT)",
    );
    expect(output).toContain(`WebSocket  ws://localhost:${port}\n`);
    expect(output).toContain(`Web page   http://localhost:${port}/\n`);
    expect(output).toContain(`npx wscat -c "ws://localhost:${port}?name=alice"`);
    const dynamodbPid = Number(/\(pid (\d+)\)/.exec(output)![1]);
    expect(alive(dynamodbPid)).toBe(true);

    const page = await fetch(`http://localhost:${port}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await (await fetch(`http://localhost:${port}/config.json`)).json()).toEqual({
      wsUrl: `ws://localhost:${port}`,
    });

    const alice = await connect(`ws://localhost:${port}?name=alice`);
    const bob = await connect(`ws://localhost:${port}?name=bob`);
    bob.send({ action: "sendmessage", message: "hello" });
    expect(await alice.next((f) => f.text === "hello")).toMatchObject({ from: "bob", room: "lobby" });
    for (const text of ["two", "three"]) {
      alice.send({ action: "sendmessage", message: text });
      await bob.next((f) => f.text === text);
    }

    // The metrics the alarms watch, summed from the handlers' EMF lines, printed while traffic flows:
    // one line, or two if the traffic straddled an interval (then the next 5 s print nothing).
    expect(output).toContain("Metrics    a line every 5 s while traffic flows");
    const metricLines = () =>
      start
        .output()
        .split("\n")
        .filter((line) => line.startsWith("metrics 5s: "));
    const counted = (label: string) =>
      metricLines().reduce(
        (sum, line) => sum + Number(new RegExp(`${label} (\\d+)`).exec(line)?.[1] ?? 0),
        0,
      );
    // Waits for the lines that count all the traffic above (printed at the next 5 s tick or two).
    while (counted("stored") < 3 || counted("delivered") < 4)
      await start.printed(new RegExp(`(?:metrics 5s: [\\s\\S]*){${metricLines().length + 1}}`));
    const lines = metricLines();
    expect(lines.length).toBeLessThanOrEqual(2);
    expect(counted("stored")).toBe(3);
    // The 3 messages to the other member, and bob's join announced to alice (and alice's to bob
    // when the stream hands both joins over in one batch).
    expect([4, 5]).toContain(counted("delivered"));
    expect(counted("failed")).toBe(0);
    expect(lines.join("\n")).toMatch(/ · ack p50 \d+ ms · last delivery p50 \d+ ms$/m);

    start.pressCtrlC();
    // `npm start` ends with its script's status: node's 0, once it has stopped everything.
    expect(await start.exited).toEqual({ code: 0, signal: null });
    expect(await alice.closed).toEqual({ code: 1001, reason: "Going away" });
    expect(await bob.closed).toEqual({ code: 1001, reason: "Going away" });
    const after = start.output();
    expect(after).toContain("SIGINT: closing 2 connection(s), each fires $disconnect ...");
    // Both $disconnects ran to completion (DynamoDB Local was still up for them), once each.
    // (The output rides along so that a failure shows what npm start printed instead.)
    const disconnects = after.match(/"route":"\$disconnect".*"status":200/g)?.length ?? 0;
    expect({ disconnects, after }).toEqual({ disconnects: 2, after });
    expect(after).toMatch(/stopped the gateway and DynamoDB Local in \d+\.\d s/);
    expect(alive(dynamodbPid)).toBe(false);
    expect(alive(-start.pid)).toBe(false);
  } finally {
    start.killAll();
  }
});

it("keeps the data in .data/dynamodb, so a restart still has the history", async () => {
  const copy = projectCopy();
  try {
    for (const [round, expected] of [
      ["first", "created"],
      ["second", "exists"],
    ] as const) {
      const port = await freePort();
      const start = npmStart([], port, copy.dir);
      try {
        const output = await start.printed("Ctrl-C stops everything.");
        expect(output).toContain(`DynamoDB Local (data in ${join(copy.dir, ".data/dynamodb")})`);
        expect(output).toMatch(new RegExp(`table roomcast-local: ${expected} in`));
        expect(output).toContain(".data/dynamodb (kept across restarts)");
        const client = await connect(`ws://localhost:${port}?name=${round}`);
        client.send({ action: "sendmessage", message: `said in the ${round} run` });
        await client.next((f) => f.type === "ack");
        client.send({ action: "history", room: "lobby" });
        const history = await client.next((f) => f.type === "history");
        const texts = (history.messages as { text: string }[]).map((m) => m.text);
        expect(texts).toEqual(
          round === "first" ? ["said in the first run"] : ["said in the first run", "said in the second run"],
        );
        start.pressCtrlC();
        await start.exited;
      } finally {
        start.killAll();
      }
    }
  } finally {
    copy.remove();
  }
});

it("says so, before starting Java, when the port is taken", async () => {
  const blocker = createServer();
  await new Promise<void>((done) => blocker.listen(0, "127.0.0.1", done));
  const { port } = blocker.address() as { port: number };
  const start = npmStart(["--in-memory"], port);
  expect(await start.exited).toEqual({ code: 1, signal: null });
  expect(start.output()).toContain(
    `roomcast could not start: port ${port} is in use; set PORT=... to use another`,
  );
  expect(start.output()).not.toContain("DynamoDB Local");
  blocker.close();
});

it("says what to install when Java is missing, and leaves nothing running", async () => {
  // A PATH with node on it and nothing else.
  const bin = mkdtempSync(join(tmpdir(), "roomcast-nojava-"));
  symlinkSync(process.execPath, join(bin, "node"));
  const port = await freePort();
  const start = runInGroup(join(repo, "node_modules/.bin/tsx"), ["local/start.ts", "--in-memory"], {
    env: { ...process.env, PATH: bin, PORT: String(port) },
  });
  expect(await start.exited).toEqual({ code: 1, signal: null });
  expect(start.output()).toContain("roomcast could not start: DynamoDB Local needs Java 17 or newer");
  expect(start.output()).toContain("apt-get install -y openjdk-17-jre-headless");
  // The gateway it had bound is closed again.
  const probe = createServer();
  await new Promise<void>((done, fail) => probe.once("error", fail).listen(port, "127.0.0.1", done));
  probe.close();
  rmSync(bin, { recursive: true, force: true });
});

it("after a SIGKILL, the next start ends the DynamoDB Local left behind and keeps its data", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "roomcast-crash-"));
  const env = { ROOMCAST_DATA_DIR: dataDir };
  const item = { pk: { S: "crash-test" }, sk: { S: "written before the crash" } };
  const ready = async (start: ReturnType<typeof npmStart>) => {
    const output = await start.printed("Ctrl-C stops everything.");
    expect(output).toContain(`DynamoDB Local (data in ${dataDir})`);
    const [, endpoint, pid] = /ready at (http:\/\/[\d.:]+) \(pid (\d+)\)/.exec(output)!;
    // The persisted data opens with the folder's own access key only.
    return { endpoint: withAccessKey(endpoint, dataAccessKey(dataDir)), pid: Number(pid) };
  };
  const first = npmStart([], await freePort(), repo, env);
  let second: ReturnType<typeof npmStart> | undefined;
  try {
    const crashed = await ready(first);
    expect(JSON.parse(readFileSync(join(dataDir, pidFileName), "utf8")).pid).toBe(crashed.pid);
    const client = createDynamoClient(crashed.endpoint);
    await client.send(new PutItemCommand({ TableName: "roomcast-local", Item: item }));
    client.destroy();

    // The terminal dies: every process of its group is killed at once, nothing can clean up.
    process.kill(-first.pid, "SIGKILL");
    await first.exited;
    expect(alive(crashed.pid)).toBe(true);
    expect(dynamoDbLocalsOn(dataDir)).toEqual([crashed.pid]);

    second = npmStart([], await freePort(), repo, env);
    const restarted = await ready(second);
    expect(alive(crashed.pid)).toBe(false);
    expect(dynamoDbLocalsOn(dataDir)).toEqual([restarted.pid]);
    const again = createDynamoClient(restarted.endpoint);
    const found = await again.send(new GetItemCommand({ TableName: "roomcast-local", Key: item }));
    again.destroy();
    expect(found.Item).toEqual(item);

    second.pressCtrlC();
    await second.exited;
    expect(dynamoDbLocalsOn(dataDir)).toEqual([]);
    expect(existsSync(join(dataDir, pidFileName))).toBe(false);
  } finally {
    first.killAll();
    second?.killAll();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

/** Pids of the processes whose parent is `pid`, read from `ps`. */
function childrenOf(pid: number): number[] {
  return execFileSync("ps", ["-eo", "pid=,ppid="], { encoding: "utf8" })
    .split("\n")
    .map((line) => line.trim().split(/\s+/).map(Number))
    .filter(([, parent]) => parent === pid)
    .map(([child]) => child);
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 100));

/** Resolves once `pid` (or, negative, every process of a group) has exited; a hang guard, not a timing check. */
async function exitOf(pid: number, giveUpMs = 60_000): Promise<void> {
  const deadline = Date.now() + giveUpMs;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} still running after ${giveUpMs / 1000} s`);
    await tick();
  }
}

describe.each([
  ["SIGTERM", "npm", "a process manager or `kill` stops the npm process; npm relays SIGTERM"],
  ["SIGHUP", "npm", "npm dies without relaying SIGHUP: node sees its parent go"],
  ["SIGHUP", "node", "the terminal closes"],
] as const)("%s to the %s process of `npm start` (%s)", (signal, target, _why) => {
  it("stops the gateway and DynamoDB Local, and leaves no process and no Java", async () => {
    // prepare
    const port = await freePort();
    const start = npmStart(["--in-memory"], port);
    try {
      const output = await start.printed("Ctrl-C stops everything.");
      const javaPid = Number(/\(pid (\d+)\)/.exec(output)![1]);
      const [nodePid] = childrenOf(start.pid);
      expect(alive(javaPid)).toBe(true);

      // act
      process.kill(target === "npm" ? start.pid : nodePid, signal);

      // assess: npm may be gone before node has stopped (SIGHUP), so wait for the whole group.
      await exitOf(-start.pid);
      await exitOf(javaPid);
      while (!start.output().includes("stopped the gateway and DynamoDB Local in")) await tick();
      expect(start.output()).toMatch(/(SIGTERM|SIGHUP|parent process \d+ exited): closing 0 connection\(s\)/);
      const probe = createServer();
      await new Promise<void>((done, fail) => probe.once("error", fail).listen(port, "127.0.0.1", done));
      probe.close();
    } finally {
      start.killAll();
    }
  });
});

it("reads a .env file in the project folder, where the environment has no value", async () => {
  // prepare: .env sets both throttling settings, the environment one of them.
  const copy = projectCopy();
  writeFileSync(join(copy.dir, ".env"), "THROTTLING_RATE_LIMIT=7\nTHROTTLING_BURST_LIMIT=9\n");
  const start = npmStart(["--in-memory"], await freePort(), copy.dir, { THROTTLING_BURST_LIMIT: "11" });
  try {
    // act
    const output = await start.printed("Ctrl-C stops everything.");

    // assess
    expect(output).toContain("Settings   the environment, then .env\n");
    expect(output).toContain(
      "Throttling 7 messages/s, burst 11, for each route (THROTTLING_RATE_LIMIT / THROTTLING_BURST_LIMIT)",
    );
    start.pressCtrlC();
    await start.exited;
  } finally {
    start.killAll();
    copy.remove();
  }
});
