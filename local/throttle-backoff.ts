import type { WebSocket } from "ws";

/** About the time one token takes to refill at the `$default` route's default rate (10 a second). */
export const throttledPauseMs = 100;

/**
 * Stops reading a connection's socket for a moment once stage throttling refused one of its
 * frames. A client flooding at full speed then waits on TCP backpressure instead of costing the
 * gateway's single event loop a reply per frame (which starved every other connection). Frames
 * already read are still answered as they are processed: "Too Many Requests" if still throttled.
 */
export function createThrottleBackoff(ws: WebSocket, pauseMs = throttledPauseMs) {
  let timer: NodeJS.Timeout | undefined;
  return {
    throttled(): void {
      if (timer) return;
      ws.pause();
      timer = setTimeout(() => {
        timer = undefined;
        ws.resume();
      }, pauseMs);
    },
    stop(): void {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
