import { fanoutWorker } from "./fanout-worker";
import { streamWorker } from "./stream-worker";

/** The event-driven Lambdas beside the routes: the Pulumi program and the local stack each run both. */
export const workers = [streamWorker, fanoutWorker] as const;

export { fanoutWorker, streamWorker };
export type { Worker } from "./worker";

// SCRATCH STUB (infra helper's copy only).
Object.assign(streamWorker, {
  permissions: {
    table: ["GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"],
    post: true,
    queue: true,
  },
});
Object.assign(fanoutWorker, { permissions: { table: ["Query", "DeleteItem", "UpdateItem"], post: true } });
