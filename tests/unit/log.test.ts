import type { Context } from "aws-lambda";
import { createLogger } from "../../handlers/log";

const lambdaContext = (awsRequestId: string): Context =>
  ({
    awsRequestId,
    functionName: "roomcast-dev-sendmessage",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:roomcast-dev-sendmessage",
    memoryLimitInMB: "256",
  }) as Context;

function collect(base?: Record<string, unknown>) {
  const lines: string[] = [];
  return {
    log: createLogger(base, (line) => lines.push(line)),
    lines,
    parsed: () => lines.map((l) => JSON.parse(l)),
  };
}

// check 1: the fields and their order roomcast has always logged: level, time, msg, service, then the rest.
it("writes one JSON line with level, time, msg, service, the child's and the call's fields", () => {
  const { log, lines } = collect({ service: "roomcast" });
  log.child({ route: "sendmessage", connectionId: "L0SM9cOFvHcCIhw=", requestId: "abc=" }).info("handled", {
    status: 200,
    ms: 12,
  });
  expect(lines).toHaveLength(1);
  const line = JSON.parse(lines[0]);
  expect(Object.keys(line)).toEqual([
    "level",
    "time",
    "msg",
    "service",
    "route",
    "connectionId",
    "requestId",
    "status",
    "ms",
  ]);
  expect(line).toEqual({
    level: "info",
    time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    msg: "handled",
    service: "roomcast",
    route: "sendmessage",
    connectionId: "L0SM9cOFvHcCIhw=",
    requestId: "abc=",
    status: 200,
    ms: 12,
  });
});

// check 2: warn and error levels; an Error becomes name, message, status and stack.
it("logs warn and error, with errors as objects carrying the SDK's HTTP status", () => {
  const { log, parsed } = collect({ service: "roomcast" });
  const gone = Object.assign(new Error("gone"), {
    name: "GoneException",
    $metadata: { httpStatusCode: 410 },
  });
  log.warn("post failed", { error: gone });
  log.error("handler failed", { error: new Error("boom") });
  const [warn, error] = parsed();
  expect(warn).toMatchObject({
    level: "warn",
    msg: "post failed",
    error: { name: "GoneException", message: "gone", status: 410, stack: expect.stringContaining("gone") },
  });
  expect(error).toMatchObject({
    level: "error",
    msg: "handler failed",
    error: { name: "Error", message: "boom" },
  });
});

// check 3: children share the parent's context but not each other's fields.
it("keeps each child's fields to itself", () => {
  const { log, parsed } = collect({ service: "local-gateway" });
  const a = log.child({ connectionId: "a" });
  const b = a.child({ route: "joinroom" });
  a.info("one");
  b.info("two");
  log.info("three");
  expect(parsed().map(({ time: _time, ...rest }) => rest)).toEqual([
    { level: "info", msg: "one", service: "local-gateway", connectionId: "a" },
    { level: "info", msg: "two", service: "local-gateway", connectionId: "a", route: "joinroom" },
    { level: "info", msg: "three", service: "local-gateway" },
  ]);
});

// check 4: in Lambda, Powertools marks the first invocation as the cold start and adds the request id, on every child.
it("adds coldStart and the Lambda request id from the invocation's context", () => {
  process.env.AWS_LAMBDA_INITIALIZATION_TYPE = "on-demand";
  try {
    const { log, parsed } = collect({ service: "roomcast" });
    const child = log.child({ route: "sendmessage" });
    log.addContext(lambdaContext("req-1"));
    child.info("first");
    child.info("first again");
    log.addContext(lambdaContext("req-2"));
    log.child({ route: "history" }).info("second");
    expect(parsed().map((l) => [l.msg, l.coldStart, l.functionRequestId])).toEqual([
      ["first", true, "req-1"],
      ["first again", true, "req-1"],
      ["second", false, "req-2"],
    ]);
  } finally {
    delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
  }
});

// check 5: no service given: no service field (the local tools' loggers).
it("omits service when none is given", () => {
  const { log, parsed } = collect();
  log.info("hello", { bench: "fanout" });
  expect(parsed()[0]).toEqual({ level: "info", time: expect.any(String), msg: "hello", bench: "fanout" });
});
