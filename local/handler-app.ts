import { resolve, sep } from "node:path";
import type { Deps } from "../handlers/deps";
import type { invoke } from "../handlers/invoke";
import type { Route } from "../handlers/route";
import type { fanoutWorker, roomSweepWorker, streamWorker } from "../handlers/workers";

/** What the local stack runs: the route table and workers, their deps (built once) and the Lambda wrapper. */
export type App = {
  routes: readonly Route[];
  workers: { stream: typeof streamWorker; fanout: typeof fanoutWorker; sweep: typeof roomSweepWorker };
  deps: Deps;
  invoke: typeof invoke;
};

/** Source folders whose modules `--watch` reloads. */
export const reloadableDirs = [resolve(__dirname, "../handlers"), resolve(__dirname, "../model")];

/**
 * Loads the handlers through `require` (not `import`), so that after
 * {@link forgetReloadableModules} the next load compiles the current files.
 */
export function loadApp(env: NodeJS.ProcessEnv, overrides: Partial<Deps> = {}): App {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { routes } = require("../handlers/routes") as typeof import("../handlers/routes");
  const { createDeps } = require("../handlers/deps") as typeof import("../handlers/deps");
  const { invoke } = require("../handlers/invoke") as typeof import("../handlers/invoke");
  const { streamWorker, fanoutWorker, roomSweepWorker } =
    require("../handlers/workers") as typeof import("../handlers/workers");
  /* eslint-enable @typescript-eslint/no-require-imports */
  return {
    routes,
    workers: { stream: streamWorker, fanout: fanoutWorker, sweep: roomSweepWorker },
    deps: createDeps(env, overrides),
    invoke,
  };
}

/** Drops handlers/ and model/ from the CommonJS module cache (tsx loads .ts files as CommonJS here). */
export function forgetReloadableModules(): void {
  for (const file of Object.keys(require.cache)) {
    if (reloadableDirs.some((dir) => file.startsWith(dir + sep))) delete require.cache[file];
  }
}
