/**
 * Tells a recipient's own trouble from the account's: a 429 can mean one client's full
 * buffer or API Gateway's account-wide post rate. When most of this container's recent
 * posts were throttled, it is the account: back off and disconnect no one (mass
 * disconnects would storm the 500 new connections/s quota).
 */
export type ThrottleWatch = {
  record(posts: number, throttled: number): void;
  /** At least `minPosts` posts in the window, and at least half of them throttled. */
  accountThrottled(): boolean;
};

export function createThrottleWatch({
  windowMs = 10_000,
  minPosts = 10,
  now = Date.now,
}: { windowMs?: number; minPosts?: number; now?: () => number } = {}): ThrottleWatch {
  let samples: { at: number; posts: number; throttled: number }[] = [];
  const recent = () => (samples = samples.filter((s) => s.at > now() - windowMs));
  return {
    record(posts, throttled) {
      if (posts > 0) samples.push({ at: now(), posts, throttled });
    },
    accountThrottled() {
      const window = recent();
      const posts = window.reduce((sum, s) => sum + s.posts, 0);
      const throttled = window.reduce((sum, s) => sum + s.throttled, 0);
      return posts >= minPosts && throttled * 2 >= posts;
    },
  };
}
