import { createLocalMetricsReporter } from "../../local/metrics-reporter";
import type { LocalStack } from "../../local/stack";
import { startTestStack } from "../support/local-stack";
import { connect } from "../support/ws-client";

// The line `npm start` prints every 5 s, fed by the real handlers' EMF lines on the local stack.
let stack: LocalStack;
const printed: string[] = [];
const emfLines: string[] = [];
// The interval never fires on its own here: the test calls report() once the stack has settled.
const reporter = createLocalMetricsReporter((line) => printed.push(line), 3_600_000);

beforeAll(async () => {
  stack = await startTestStack({
    metrics: (line) => {
      emfLines.push(line);
      reporter.emf(line);
    },
  });
});
afterAll(async () => {
  reporter.stop();
  await stack?.stop();
});

it("prints nothing for connects and disconnects alone, though the workers published zero counts", async () => {
  // prepare: clients come and go one at a time, so the stream worker handles joins and leaves
  // that nobody is there to be told about (presence to others is a delivery, and counts).
  for (const name of ["alice", "bob", "carol"]) {
    const client = await connect(`${stack.wsUrl}?name=${name}`);
    await stack.settled();
    await client.close();
    await stack.settled();
  }
  await stack.settled();

  // act
  reporter.report();

  // assess: the workers did publish (all-zero counts), and no line came of it.
  expect(emfLines.length).toBeGreaterThan(0);
  expect(printed).toEqual([]);
});

it("prints one line once a message moves the counts", async () => {
  // prepare
  const alice = await connect(`${stack.wsUrl}?name=alice`);
  const bob = await connect(`${stack.wsUrl}?name=bob`);
  alice.send({ action: "sendmessage", message: "hello" });
  await bob.next((frame) => frame.text === "hello");
  await stack.settled();

  // act
  reporter.report();

  // assess
  expect(printed).toHaveLength(1);
  expect(printed[0]).toMatch(/^metrics 3600s: stored 1 · delivered \d+ · gone 0 · failed 0 · ack p50 \d+ ms/);
  await alice.close();
  await bob.close();
});
