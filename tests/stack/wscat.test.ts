import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { resolve } from "node:path";
import type { LocalStack } from "../../local/stack";
import { startTestStack } from "../support/local-stack";

// The tutorial, as a user does it: two real wscat CLIs, each in a terminal, against the local stack.
const wscatBin = resolve(__dirname, "../../node_modules/.bin/wscat");
let stack: LocalStack;
const terminals: { process: ChildProcessWithoutNullStreams; exited: Promise<void> }[] = [];

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  for (const terminal of terminals) terminal.process.kill();
  await Promise.all(terminals.map((terminal) => terminal.exited));
  await stack?.stop();
});

// Terminal escape sequences (colours, cursor moves) between the text.
const ansi = new RegExp(String.fromCharCode(27) + "\\[[0-9;]*[A-Za-z]", "g");

/**
 * wscat in a pseudo-terminal (util-linux `script`), so it behaves as on a user's
 * screen: "Connected", a prompt, "< " before each incoming frame. Typing goes to
 * the terminal; `screen` is what it shows, colours stripped.
 */
function wscatInTerminal(url: string) {
  const terminal = spawn("script", ["-qfec", `${wscatBin} -c '${url}'`, "/dev/null"], { stdio: "pipe" });
  let screen = "";
  const waiters: (() => void)[] = [];
  terminal.stdout.on("data", (chunk: Buffer) => {
    screen += chunk.toString().replace(ansi, "");
    for (const wake of waiters.splice(0)) wake();
  });
  const exited = new Promise<void>((done) => terminal.once("exit", () => done()));
  terminals.push({ process: terminal, exited });
  return {
    /** Types a line and presses Enter. */
    type: (line: string) => terminal.stdin.write(line + "\r"),
    pressCtrlC: () => terminal.stdin.write("\u0003"),
    exited,
    /** Resolves with the screen once it shows `text`. */
    shows: (text: string) =>
      new Promise<string>((done, fail) => {
        const look = () => (screen.includes(text) ? done(screen) : waiters.push(look));
        void exited.then(() => !screen.includes(text) && fail(new Error(`wscat exited; screen:\n${screen}`)));
        look();
      }),
  };
}

it("delivers a line typed into one wscat to the other wscat's screen", async () => {
  const alice = wscatInTerminal(`${stack.wsUrl}?name=alice`);
  await alice.shows("Connected (press CTRL+C to quit)");
  const bob = wscatInTerminal(`${stack.wsUrl}?name=bob`);
  await bob.shows("Connected (press CTRL+C to quit)");
  await alice.shows('< {"type":"presence","room":"lobby","event":"join","name":"bob","guest":true}');

  bob.type('{"action":"sendmessage","message":"hello"}');
  const aliceScreen = await alice.shows('"text":"hello"');
  expect(aliceScreen).toMatch(
    /< \{"type":"message","room":"lobby","seq":\d+,"id":"[0-9A-Z]{26}","from":"bob","guest":true,"text":"hello"/,
  );
  expect(await bob.shows('< {"type":"ack"')).toMatch(/< \{"type":"ack","room":"lobby","id":"[0-9A-Z]{26}"/);

  // A typo gets an error frame on the typist's screen, and wscat stays connected.
  bob.type("hello");
  expect(await bob.shows('"code":"BAD_JSON"')).toContain('< {"type":"error","code":"BAD_JSON"');

  // Ctrl-C quits wscat; its $disconnect tells the room.
  bob.pressCtrlC();
  await bob.exited;
  await alice.shows('< {"type":"presence","room":"lobby","event":"leave","name":"bob","guest":true}');
});
