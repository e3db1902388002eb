import { RoomBusyError } from "../model/store";
import type { Deps } from "./deps";
import { FrameError } from "./protocol";

/** Runs a write that numbers a room event; a room too busy to number it is BUSY. */
export async function numberedOrBusy<T>(deps: Deps, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (!(error instanceof RoomBusyError)) throw error;
    deps.log.warn("room busy", { room: error.room, attempts: error.attempts });
    throw new FrameError("BUSY", `room: too many messages to ${error.room} at once; retry in a moment`);
  }
}
