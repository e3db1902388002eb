import { fanoutWorker } from "./delivery/fanout-worker";
import { roomSweepWorker } from "./delivery/room-sweep";
import { streamWorker } from "./delivery/stream-worker";

/** The event-driven Lambdas beside the routes: the Pulumi program and the local stack each run all three. */
export const workers = [streamWorker, fanoutWorker, roomSweepWorker] as const;

export { fanoutWorker, roomSweepWorker, streamWorker };
export type { Worker } from "./worker";
