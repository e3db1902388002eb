import { createMetrics } from "../../handlers/metrics";
import { createLocalMetricsReporter } from "../../local/metrics-reporter";
import { startChat, type Chat } from "./harness";

const now = Date.parse("2030-01-01T00:00:00.000Z");

function recorder(stack = "dev") {
  const lines: string[] = [];
  const metrics = createMetrics({
    namespace: "roomcast",
    service: "roomcast",
    stack,
    write: (l) => lines.push(l),
  });
  return { metrics, lines };
}

describe("EMF lines on a fixed clock", () => {
  beforeEach(() => jest.useFakeTimers({ now, doNotFake: ["nextTick", "setImmediate"] }));
  afterEach(() => jest.useRealTimers());

  // check 1: one flush, one EMF line: namespace roomcast, dimensions service and stack, counts summed, every latency kept.
  it("flushes one exact EMF line with summed counts and every latency", () => {
    const { metrics, lines } = recorder();
    metrics.count("MessagesStored");
    metrics.count("Deliveries", 340);
    metrics.count("Deliveries", 2);
    metrics.count("GoneConnections", 2);
    metrics.milliseconds("AckLatency", 8);
    metrics.milliseconds("AckLatency", 11);
    metrics.milliseconds("TimeToLastDelivery", 140);
    metrics.flush();
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toEqual({
      _aws: {
        Timestamp: now,
        CloudWatchMetrics: [
          {
            Namespace: "roomcast",
            Dimensions: [["service", "stack"]],
            Metrics: [
              { Name: "MessagesStored", Unit: "Count" },
              { Name: "Deliveries", Unit: "Count" },
              { Name: "GoneConnections", Unit: "Count" },
              { Name: "AckLatency", Unit: "Milliseconds" },
              { Name: "TimeToLastDelivery", Unit: "Milliseconds" },
            ],
          },
        ],
      },
      service: "roomcast",
      stack: "dev",
      MessagesStored: 1,
      Deliveries: 342,
      GoneConnections: 2,
      AckLatency: [8, 11],
      TimeToLastDelivery: 140,
    });
  });

  // check 2: a flush with nothing recorded writes nothing, and a flush starts afresh.
  it("writes nothing when nothing was recorded, and each flush only what came after the last", () => {
    const { metrics, lines } = recorder();
    metrics.flush();
    expect(lines).toEqual([]);
    metrics.count("FailedPosts", 3);
    metrics.flush();
    metrics.count("ThrottledPosts");
    metrics.flush();
    metrics.flush();
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ FailedPosts: 3 }),
      expect.not.objectContaining({ FailedPosts: expect.anything() }),
    ]);
    expect(JSON.parse(lines[1]).ThrottledPosts).toBe(1);
  });

  // check 3: more latencies than an EMF line may carry (100 a metric) become more lines, none lost.
  it("splits 250 latencies over lines of at most 99 values, losing none", () => {
    const { metrics, lines } = recorder();
    for (let ms = 0; ms < 250; ms++) metrics.milliseconds("TimeToLastDelivery", ms);
    metrics.count("FanoutJobs", 4);
    metrics.flush();
    const parsed = lines.map((l) => JSON.parse(l));
    expect(parsed.map((p) => [p.TimeToLastDelivery].flat().length)).toEqual([99, 99, 52]);
    expect(parsed.flatMap((p) => [p.TimeToLastDelivery].flat())).toEqual([...Array(250).keys()]);
    expect(parsed.map((p) => p.FanoutJobs)).toEqual([4, undefined, undefined]);
  });

  // check 4: every name the alarms and dashboard use can be published.
  it("publishes each metric name with its unit", () => {
    const { metrics, lines } = recorder("prod");
    for (const name of ["DeadLetters", "PresenceSuppressed"] as const) metrics.count(name, 0);
    metrics.flush();
    expect(JSON.parse(lines[0])._aws.CloudWatchMetrics[0].Metrics).toEqual([
      { Name: "DeadLetters", Unit: "Count" },
      { Name: "PresenceSuppressed", Unit: "Count" },
    ]);
    expect(JSON.parse(lines[0]).stack).toBe("prod");
  });

  describe("the local metrics reporter", () => {
    // check 5: the EMF lines of an interval become one summary line; an idle interval prints nothing.
    it("prints one line per interval with traffic, summing EMF lines", () => {
      const printed: string[] = [];
      const reporter = createLocalMetricsReporter((line) => printed.push(line), 5000);
      const metrics = createMetrics({
        namespace: "roomcast",
        service: "roomcast",
        stack: "local",
        write: reporter.emf,
      });
      metrics.count("MessagesStored", 12);
      metrics.count("Deliveries", 300);
      metrics.milliseconds("AckLatency", 8);
      metrics.milliseconds("AckLatency", 30);
      metrics.milliseconds("AckLatency", 7);
      metrics.flush();
      metrics.count("Deliveries", 40);
      metrics.count("GoneConnections", 2);
      metrics.milliseconds("TimeToLastDelivery", 140);
      metrics.flush();
      jest.advanceTimersByTime(5000);
      jest.advanceTimersByTime(5000);
      expect(printed).toEqual([
        "metrics 5s: stored 12 · delivered 340 · gone 2 · failed 0 · ack p50 8 ms · last delivery p50 140 ms",
      ]);
      metrics.count("FanoutJobs", 3);
      metrics.flush();
      jest.advanceTimersByTime(5000);
      expect(printed[1]).toBe("metrics 5s: stored 0 · delivered 0 · gone 0 · failed 0 · jobs 3");
      reporter.stop();
    });
  });
});

describe("the handlers publish where it happens", () => {
  let chat: Chat;
  beforeAll(async () => {
    // Two attempts per post, so a failing recipient fails fast; messages to more than 1 recipient are queued.
    chat = await startChat({ postMaxAttempts: "2", inlineFanoutMax: "1", connectGraceSeconds: "0" });
  });
  afterAll(() => chat.close());

  /** Everything published since `from` (the workers flush after each batch; routes here, as Lambda's entry does). */
  function published(from: number) {
    chat.deps.metrics.flush();
    const lines = chat.metricLines.slice(from).map((line) => JSON.parse(line) as Record<string, unknown>);
    const total = (name: string) =>
      lines.reduce(
        (sum, line) => sum + [line[name] ?? []].flat().reduce((a: number, b) => a + (b as number), 0),
        0,
      );
    const values = (name: string) => lines.flatMap((line) => [line[name] ?? []].flat() as number[]);
    return { lines, total, values };
  }

  // check 6: a message to a room of three: stored, acked, queued, one 429 retried and counted, one gone.
  it("counts stored, delivered, throttled (retry delivered) and gone, with the ack and delivery times", async () => {
    const [ann, ben, cy] = [
      await chat.connect({ name: "ann", room: "porch" }),
      await chat.connect({ name: "ben", room: "porch" }),
      await chat.connect({ name: "cy", room: "porch" }),
    ];
    chat.deps.metrics.flush();
    const from = chat.metricLines.length;
    chat.api.failNext(ben.connectionId, 429, 1);
    chat.api.markGone(cy.connectionId);
    // Two recipients are above INLINE_FANOUT_MAX (1): the message is queued; the fan-out worker posts.
    await chat.send(ann, { action: "sendmessage", message: "hi" });
    const { total, values } = published(from);
    expect(total("MessagesStored")).toBe(1);
    expect(values("AckLatency")).toHaveLength(1);
    expect(total("FanoutJobs")).toBe(chat.deps.config.fanoutSlices);
    expect(chat.api.framesTo(ben.connectionId)).toContainEqual(expect.objectContaining({ text: "hi" }));
    expect(total("ThrottledPosts")).toBe(1);
    expect(total("GoneConnections")).toBe(1);
    // Delivered: ben's message, and the leave of cy (gone) announced to ann and ben.
    expect(total("Deliveries")).toBe(3);
    expect(total("FailedPosts")).toBe(0);
    expect(values("TimeToLastDelivery").length).toBeGreaterThanOrEqual(1);
  });

  // check 7: a stream batch that keeps failing (the store, not a recipient: a recipient never fails
  // a record) goes to the dead-letter queue, counted and logged.
  it("counts and logs a stream batch sent to the dead-letter queue", async () => {
    const [dee] = [
      await chat.connect({ name: "dee", room: "cellar" }),
      await chat.connect({ name: "eve", room: "cellar" }),
    ];
    chat.deps.metrics.flush();
    const from = chat.metricLines.length;
    const logged = chat.logs().length;
    const { store } = chat.deps;
    const smallRoomMembers = store.smallRoomMembers;
    store.smallRoomMembers = async (room, max) => {
      if (room === "cellar") throw new Error("injected: cellar's members cannot be read");
      return smallRoomMembers(room, max);
    };
    try {
      await chat.send(dee, { action: "sendmessage", message: "anyone?" });
    } finally {
      store.smallRoomMembers = smallRoomMembers;
    }
    const { total } = published(from);
    expect(total("DeadLetters")).toBe(1);
    expect(chat.logs().slice(logged)).toContainEqual(
      expect.objectContaining({
        level: "error",
        msg: "stream batch sent to the dead-letter queue",
        records: 1,
      }),
    );
    const { Messages = [] } = await chat.events.receiveDeadLetters();
    expect(Messages).toHaveLength(1);
  });
});
