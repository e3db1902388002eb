import { fanoutWorker } from "./delivery/fanout-worker";
import { streamWorker } from "./delivery/stream-worker";

/** The event-driven Lambdas beside the routes: the Pulumi program and the local stack each run both. */
export const workers = [streamWorker, fanoutWorker] as const;

export { fanoutWorker, streamWorker };
export type { Worker } from "./worker";
