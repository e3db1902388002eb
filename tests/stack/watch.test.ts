import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { routes } from "../../handlers/routes";
import { freePort } from "../../local/dynamodb-local";
import { projectCopy, runInGroup } from "../support/child-process";
import { connect } from "../support/ws-client";

// `npm start -- --watch` reloads handler changes in place: sockets stay open, data stays.
// It runs on a copy of the project, so the test can edit handlers without touching the real ones.
jest.setTimeout(120_000);
const copy = projectCopy();

afterAll(() => {
  copy.remove();
});

const probeRoute = (version: number) => `import type { Route } from "./route";
/** A route the watch test adds while the stack runs. */
export const probeRoute: Route = {
  key: "probe",
  name: "probe",
  routeResponse: true,
  handle: async () => ({ statusCode: 200, body: JSON.stringify({ type: "probe", version: ${version} }) }),
};
`;

it("reloads handlers/ on change, keeping the socket open and the data", async () => {
  const port = await freePort();
  // `npm start` as typed, not tsx's CLI: that one SIGKILLs its child when it has not reported a
  // relayed Ctrl-C within 30 ms, which a loaded machine missed (exit code 130 instead of 0).
  const start = runInGroup("npm", ["start", "--", "--in-memory", "--watch"], {
    cwd: copy.dir,
    env: { ...process.env, PORT: String(port) },
  });
  try {
    await start.printed(/Watching {3}handlers\/ and model\//);
    const client = await connect(`ws://localhost:${port}?name=alice`);
    client.send({ action: "sendmessage", message: "before the reload" });
    await client.next((f) => f.type === "ack");
    client.send({ action: "probe" });
    expect(await client.next((f) => f.type === "error")).toMatchObject({ code: "UNKNOWN_ACTION" });

    // A new route: a new module, and the route table changed to include it.
    writeFileSync(join(copy.dir, "handlers/watch-probe.ts"), probeRoute(1));
    appendFileSync(
      join(copy.dir, "handlers/routes.ts"),
      [
        'import type { Route as ProbeRoute } from "./route";',
        'import { probeRoute } from "./watch-probe";',
        "(routes as ProbeRoute[]).push(probeRoute);",
        "",
      ].join("\n"),
    );
    await start.printed(
      // The route table and the probe.
      new RegExp(
        `reloaded handlers \\([^)]*routes\\.ts[^)]*\\): ${routes.length + 1} routes in \\d+\\.\\d s, 1 connection\\(s\\) kept`,
      ),
    );
    client.send({ action: "probe" });
    expect(await client.next((f) => f.type === "probe")).toEqual({ type: "probe", version: 1 });

    // An edit to a module already loaded is picked up too.
    writeFileSync(join(copy.dir, "handlers/watch-probe.ts"), probeRoute(2));
    await start.printed(/reloaded handlers \(watch-probe\.ts changed\)/);
    client.send({ action: "probe" });
    expect(await client.next((f) => f.type === "probe" && f.version === 2)).toEqual({
      type: "probe",
      version: 2,
    });

    // Same socket throughout, and the message stored before the reloads is still there.
    expect(client.ws.readyState).toBe(client.ws.OPEN);
    client.send({ action: "history", room: "lobby" });
    const history = await client.next((f) => f.type === "history");
    expect((history.messages as { text: string }[]).map((m) => m.text)).toEqual(["before the reload"]);

    start.pressCtrlC();
    expect(await start.exited).toEqual({ code: 0, signal: null });
    expect(await client.closed).toEqual({ code: 1001, reason: "Going away" });
  } finally {
    start.killAll();
  }
});
