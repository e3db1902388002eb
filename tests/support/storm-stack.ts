import { configEnv } from "../../handlers/config";
import type { LocalStackOptions } from "../../local/stack";
import { startTestStack } from "./local-stack";
import { openStackTable } from "./storm-table";

/**
 * A local stack for a storm: quiet logs, rate limit off (senders send without
 * pause), and the store over its table to compare with what clients saw.
 */
export async function startStormStack(options: LocalStackOptions = {}) {
  const stack = await startTestStack({
    // A fan-out job that failed comes back in seconds, not the deployed minute, within a test's time.
    queues: { visibilityTimeoutSeconds: 5 },
    ...options,
    env: { [configEnv.rateLimitMessages]: "0", ...options.env },
  });
  const table = openStackTable(stack);
  return {
    stack,
    table,
    /** Closes every client still open (after a failure) and waits for their `$disconnect`s. */
    async stop() {
      await stack.stop();
      table.close();
    },
  };
}

export type StormStack = Awaited<ReturnType<typeof startStormStack>>;
