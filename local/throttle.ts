import { createTokenBucket, type Throttling } from "../model/token-bucket";

export type { Throttling };

/**
 * A stage's throttling as API Gateway applies it: the stage's default route settings
 * give EACH route a bucket of its own of that size (per route, not one for the whole
 * stage), and a route with route settings of its own gets those instead. So a flood
 * of junk frames (`$default`) empties `$default`'s bucket, never `sendmessage`'s.
 */
export type StageThrottling = {
  /** The stage's defaultRouteSettings: the size of each route's bucket. */
  defaultRoute: Throttling;
  /** routeSettings by route key: a bucket of another size for those routes. */
  routes?: Record<string, Throttling>;
};

/**
 * Returns whether a message for `routeKey` arriving now may go through (and takes its token).
 *
 * @example
 * const admit = createStageThrottle({ defaultRoute: { rateLimit: 50, burstLimit: 100 } });
 * admit("$default"); // takes from $default's bucket only
 */
export function createStageThrottle(
  { defaultRoute, routes = {} }: StageThrottling,
  now?: () => number,
): (routeKey: string) => boolean {
  const buckets = new Map<string, () => boolean>();
  return (routeKey) => {
    let admit = buckets.get(routeKey);
    if (!admit) {
      admit = createTokenBucket(routes[routeKey] ?? defaultRoute, now);
      buckets.set(routeKey, admit);
    }
    return admit();
  };
}
