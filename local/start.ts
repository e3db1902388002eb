import { relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { localAuthSecret } from "./auth-secret";
import { gatewaySettingsFromEnv, type GatewaySettings } from "./gateway-settings";
import { createLocalMetricsReporter } from "./metrics-reporter";
import { reloadableDirs } from "./handler-app";
import { startLocalStack, type LocalStack } from "./stack";
import { secondsSince } from "./steps";
import { onStopTriggers } from "./stop-triggers";
import { defaultTtlDelayMs } from "./ttl-emulation";
import { watchSources } from "./watch";

const usage = `Usage: npm start -- [--in-memory] [--watch] [--auth]
  --in-memory  keep DynamoDB Local's data in memory (default: .data/dynamodb, kept across restarts)
  --watch      reload handlers/ and model/ when they change, keeping sockets and data
  --auth       require a signed token on connect (?token=...), as a stack with authSecret does;
               mint one with: npm run -s token -- --name alice
Settings come from the environment, then from a .env file in the project folder (the environment wins):
  PORT (default 3001); ROOMCAST_DATA_DIR (default .data/dynamodb);
  THROTTLING_RATE_LIMIT / THROTTLING_BURST_LIMIT (each route's stage throttling, default as the Pulumi stage: 500 / 1000),
  UNMATCHED_ROUTE_RATE_LIMIT / UNMATCHED_ROUTE_BURST_LIMIT ($default's, 10 / 20);
  DROP_DISCONNECTS=1 ($disconnect never fires: the fault mode that TTL and 410 cleanup must survive);
  TTL_DELAY_SECONDS (expired items stay readable this long before deletion, default ${defaultTtlDelayMs / 1000};
    AWS takes up to days), e.g. DROP_DISCONNECTS=1 CONNECTION_TTL_SECONDS=30 npm start;
  and any handler setting of handlers/config.ts, e.g. RATE_LIMIT_MESSAGES=0 npm start`;

const options = {
  "in-memory": { type: "boolean" },
  watch: { type: "boolean" },
  auth: { type: "boolean" },
  help: { type: "boolean" },
} as const;

/** `.env` beside package.json, read into the environment where it has no value yet. */
const dotEnvFile = resolve(__dirname, "../.env");

/** Reads {@link dotEnvFile} if there is one; returns whether there was. */
function loadDotEnv(): boolean {
  try {
    // Node's own parser; a variable already in the environment keeps its value.
    process.loadEnvFile(dotEnvFile);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}

/** TTL_DELAY_SECONDS in milliseconds; unset or empty: {@link defaultTtlDelayMs}. */
function ttlDelayFromEnv(value: string | undefined): number {
  if (value === undefined || value === "") return defaultTtlDelayMs;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0)
    throw new Error(`TTL_DELAY_SECONDS=${value} is not a number of seconds >= 0`);
  return seconds * 1000;
}

/** `npm start`: the whole chat on one machine, until Ctrl-C. */
async function main(args: string[]) {
  let flags: { [name in keyof typeof options]?: boolean };
  try {
    flags = parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    console.error((error as Error).message);
    console.log(usage);
    process.exitCode = 2;
    return;
  }
  if (flags.help) {
    console.log(usage);
    return;
  }
  const inMemory = flags["in-memory"] === true;
  const auth = flags.auth === true;
  const started = performance.now();
  console.log("roomcast local stack");
  let gateway: GatewaySettings;
  let ttlDelayMs: number;
  let dotEnvRead: boolean;
  try {
    dotEnvRead = loadDotEnv();
    gateway = gatewaySettingsFromEnv(process.env);
    ttlDelayMs = ttlDelayFromEnv(process.env.TTL_DELAY_SECONDS);
  } catch (error) {
    console.error((error as Error).message);
    process.exitCode = 2;
    return;
  }
  const dataDir = resolve(process.env.ROOMCAST_DATA_DIR || resolve(__dirname, "../.data/dynamodb"));
  // What CloudWatch would get, summed in a line every 5 s in which a count moved; nothing otherwise.
  const metrics = createLocalMetricsReporter((line) => console.log(line), 5000);
  const stackOptions = {
    metrics: metrics.emf,
    dataDir: inMemory ? null : dataDir,
    authSecret: auth ? localAuthSecret() : undefined,
    onProgress: (line: string) => console.log(line),
    gateway,
    ttlDelayMs,
  };
  const starting = startLocalStack(stackOptions);

  // Handlers go in before startup ends: Ctrl-C while Java boots must still stop it.
  let stopping: number | undefined;
  const closeFirst: (() => void)[] = [() => metrics.stop()];
  const stop = async (signal: string) => {
    // npm and tsx relay a terminal's Ctrl-C to this process too: repeats within 5 s are that echo
    // (on a loaded machine the relay has come more than 2 s after the terminal's own signal).
    if (stopping !== undefined) {
      if (performance.now() - stopping < 5000) return;
      console.log(`${signal} again: exiting now`);
      process.exit(130);
    }
    stopping = performance.now();
    const stack = await starting.catch(() => undefined);
    if (!stack) return;
    const stopStarted = performance.now();
    console.log(`\n${signal}: closing ${stack.connectionCount()} connection(s), each fires $disconnect ...`);
    for (const close of closeFirst) close();
    await stack.stop();
    console.log(`stopped the gateway and DynamoDB Local in ${secondsSince(stopStarted)}`);
  };
  onStopTriggers((reason) => void stop(reason));

  let stack: LocalStack;
  try {
    stack = await starting;
  } catch (error) {
    console.error(`\nroomcast could not start: ${(error as Error).message}`);
    process.exit(1);
  }
  // Last resort if this process dies some other way: never leave the detached Java behind.
  process.on("exit", () => {
    try {
      if (stack.dynamodbPid) process.kill(stack.dynamodbPid, "SIGKILL");
    } catch {
      // already stopped
    }
  });

  if (stopping !== undefined) return;
  const watcher = flags.watch
    ? watchSources(reloadableDirs, (files) => {
        const reloadStarted = performance.now();
        try {
          const routes = stack.reload();
          console.log(
            `reloaded handlers (${files.join(", ")} changed): ${routes} routes in ${secondsSince(reloadStarted)}, ` +
              `${stack.connectionCount()} connection(s) kept`,
          );
        } catch (error) {
          console.error(`reload failed; still running the previous handlers:\n${(error as Error).stack}`);
        }
      })
    : undefined;
  if (watcher) closeFirst.push(() => watcher.close());

  console.log(`
roomcast is ready in ${secondsSince(started)}
  WebSocket  ${stack.wsUrl}
  Web page   ${stack.httpUrl}/
  Try it     ${
    auth
      ? `npx wscat -c "${stack.wsUrl}?token=$(npm run -s token -- --name alice)"`
      : `npx wscat -c "${stack.wsUrl}?name=alice"`
  }
             then type {"action":"sendmessage","message":"hello"}
  Settings   ${dotEnvRead ? `the environment, then ${relative(process.cwd(), dotEnvFile)}` : "the environment (no .env file)"}
  Data       ${inMemory ? "in memory (gone when you stop)" : `${relative(process.cwd(), dataDir) || "."} (kept across restarts)`}
  Metrics    a line every 5 s while traffic flows: what CloudWatch gets on AWS (docs/operations.md)
  Throttling ${gateway.throttling!.defaultRoute.rateLimit} messages/s, burst ${gateway.throttling!.defaultRoute.burstLimit}, for each route (THROTTLING_RATE_LIMIT / THROTTLING_BURST_LIMIT); $default ${gateway.throttling!.routes!.$default.rateLimit}/s, burst ${gateway.throttling!.routes!.$default.burstLimit} (UNMATCHED_ROUTE_RATE_LIMIT / …_BURST_LIMIT)
  Expiry     expired items deleted ${ttlDelayMs / 1000} s after expiry (TTL_DELAY_SECONDS)${
    gateway.dropDisconnects ? "\n  Faults     DROP_DISCONNECTS=1: $disconnect never fires" : ""
  }${watcher ? "\n  Watching   handlers/ and model/ (reload on save)" : ""}
Ctrl-C stops everything.`);
}

void main(process.argv.slice(2));
