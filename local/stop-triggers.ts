/** The signals that end `npm start`: Ctrl-C, `kill`, and a closed terminal. */
export const stopSignals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * Calls `stop` when this process should end: on each stop signal, and once when its
 * parent is gone (npm or tsx killed, so nothing would relay a signal any more). The
 * parent check polls `process.ppid`, which changes when the process is re-parented.
 *
 * @example
 * onStopTriggers((reason) => void stop(reason));
 */
export function onStopTriggers(stop: (reason: string) => void, parentPollMs = 500): void {
  for (const signal of stopSignals) process.on(signal, () => stop(signal));
  const parent = process.ppid;
  const poll = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(poll);
    stop(`parent process ${parent} exited`);
  }, parentPollMs);
  poll.unref();
}
