/**
 * `npm run logs -- <function> [--follow]`: a deployed function's CloudWatch logs, for the current
 * Pulumi stack (or --stack), in its region (--region, else AWS_REGION, else the stack's aws:region).
 * Without --follow, the last --since minutes (default 10); with it, new lines as they arrive.
 */
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";
import {
  CloudWatchLogsClient,
  paginateFilterLogEvents,
  type FilteredLogEvent,
} from "@aws-sdk/client-cloudwatch-logs";
import { functionNames, logGroupName } from "./log-groups";

const usage = `Usage: npm run logs -- <function> [--follow] [--since <minutes>] [--stack <name>] [--region <region>]
  <function>  one of: ${functionNames.join(", ")}`;

/** A problem the user can fix, said in one line. */
class LogsError extends Error {
  name = "LogsError";
}

/** What the Pulumi CLI says about the current stack; only asked when a flag does not say it. */
function pulumi(args: string[]): string {
  try {
    return execFileSync("pulumi", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === "ENOENT"
        ? "the Pulumi CLI is not installed"
        : "no current stack";
    throw new LogsError(`cannot run pulumi ${args.join(" ")} (${reason}): pass --stack and --region`);
  }
}

const pollMs = 2000;
const print = (event: FilteredLogEvent) =>
  console.log(`${new Date(event.timestamp ?? 0).toISOString()} ${(event.message ?? "").trimEnd()}`);

async function main() {
  const { values, positionals } = parseArgs({
    options: {
      follow: { type: "boolean", short: "f" },
      since: { type: "string", default: "10" },
      stack: { type: "string" },
      region: { type: "string" },
      help: { type: "boolean" },
    },
    allowPositionals: true,
  });
  if (values.help) return console.log(usage);
  const [functionName] = positionals;
  if (positionals.length !== 1 || !functionNames.includes(functionName)) throw new LogsError(usage);
  const sinceMinutes = Number(values.since);
  if (!Number.isFinite(sinceMinutes) || sinceMinutes <= 0)
    throw new LogsError(`--since ${values.since}: a number of minutes`);

  const stack = values.stack ?? pulumi(["stack", "--show-name"]);
  const region =
    values.region ?? process.env.AWS_REGION ?? pulumi(["config", "get", "aws:region", "--stack", stack]);
  const logGroup = logGroupName(stack, functionName);

  const client = new CloudWatchLogsClient({ region });
  const seen = new Set<string>();
  let announced = false;
  let startTime = Date.now() - sinceMinutes * 60_000;
  for (;;) {
    for await (const page of paginateFilterLogEvents({ client }, { logGroupName: logGroup, startTime })) {
      // Said once the log group answered, so a failure is the only line printed.
      if (!announced)
        console.error(`${logGroup} (${region})${values.follow ? ", following: Ctrl-C stops" : ""}`);
      announced = true;
      for (const event of page.events ?? []) {
        if (seen.has(event.eventId!)) continue;
        seen.add(event.eventId!);
        print(event);
        startTime = Math.max(startTime, event.timestamp ?? 0);
      }
    }
    if (!values.follow) return;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** One line for what the user can fix; the SDK's own message for the rest. */
function explain(error: Error): string {
  if (error.name === "CredentialsProviderError" || /credentials/i.test(error.message))
    return "no AWS credentials found: run `aws configure` or `aws sso login`, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY";
  if (error.name === "ResourceNotFoundException")
    return `${error.message}: is the stack deployed, and is this its region?`;
  return error.message;
}

main().catch((error: Error) => {
  console.error(`npm run logs: ${explain(error)}`);
  const usageError =
    error instanceof LogsError || (error as NodeJS.ErrnoException).code?.startsWith("ERR_PARSE_ARGS");
  process.exit(usageError ? 2 : 1);
});
