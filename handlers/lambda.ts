import type { Context } from "aws-lambda";
import { createDeps } from "./deps";
import { invoke } from "./invoke";
import type { Route, WebSocketEvent } from "./route";
import type { Worker } from "./worker";

/**
 * The `callbackFactory` of a route's Lambda: runs once per cold start, building
 * the clients there (never at deploy time), and returns the per-event handler.
 * Each invocation adds Lambda's context to the logs (cold start, request id) and
 * publishes its metrics.
 */
export function lambdaFactory(route: Route) {
  return () => {
    const deps = createDeps(process.env);
    return async (event: WebSocketEvent, context?: Context) => {
      if (context) deps.log.addContext(context);
      try {
        return await invoke(route, event, deps);
      } finally {
        deps.metrics.flush();
      }
    };
  };
}

/** The `callbackFactory` of a worker's Lambda (the stream or the fan-out queue). */
export function workerFactory<E, R>(worker: Worker<E, R>) {
  return () => {
    const deps = createDeps(process.env);
    return async (event: E, context?: Context) => {
      if (context) deps.log.addContext(context);
      try {
        return await worker.handle(event, { ...deps, log: deps.log.child({ worker: worker.name }) });
      } finally {
        deps.metrics.flush();
      }
    };
  };
}
