import { configEnv } from "../../handlers/config";
import { createLogger } from "../../handlers/log";
import type { LocalStackOptions } from "../../local/stack";
import { startTestStack } from "./local-stack";
import { openStackTable } from "./storm-table";

/**
 * A local stack for a storm: quiet logs, rate limit off (senders send without
 * pause), and the store over its table to compare with what clients saw. Every warning
 * and error the handlers and mappings log (a failed post, job or batch, each one a cause
 * of a retry) is kept in `faults`, so a repeat delivery can be told from a bug.
 */
export async function startStormStack(options: LocalStackOptions = {}) {
  const faults: string[] = [];
  const logger = createLogger({}, (line) => {
    const { level, msg } = JSON.parse(line) as { level: string; msg: string };
    if (level === "warn" || level === "error") faults.push(msg);
  });
  const stack = await startTestStack({
    logger,
    // A job that is not done comes back when it says (ChangeMessageVisibility); the timeout brings
    // back one whose invocation died. It must outlast the longest job, a recipient's post with all its
    // attempts (4 of up to 3 s), as AWS requires it to outlast the function: at 5 s a loaded stack's
    // retry reappeared while it still ran, was posted again and again, and its receives ran out.
    queues: { visibilityTimeoutSeconds: 30 },
    ...options,
    // A loaded local stack can answer posts slower than the transport's timeout: a 10 s give-up
    // would disconnect healthy listeners that only the endpoint kept waiting.
    env: { [configEnv.rateLimitMessages]: "0", [configEnv.recipientGiveUpSeconds]: "600", ...options.env },
  });
  const table = openStackTable(stack);
  return {
    stack,
    table,
    faults,
    /** Closes every client still open (after a failure) and waits for their `$disconnect`s. */
    async stop() {
      await stack.stop();
      table.close();
    },
  };
}

export type StormStack = Awaited<ReturnType<typeof startStormStack>>;
