import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import aws4 from "aws4";

/** "throttled": failed, the last answer a 429 or LimitExceededException (a full buffer, or the account's rate). */
export type PostOutcome = "delivered" | "gone" | "failed" | "throttled";

/**
 * Per post: fewer attempts than the transport's, a time (epoch ms) by which it must have ended,
 * and a signal that ends it at once (an attempt in flight is aborted; the post fails with the
 * signal's reason).
 */
export type PostLimits = { maxAttempts?: number; deadline?: number; signal?: AbortSignal };

export interface Transport {
  /**
   * POST data to /@connections/{id} of the endpoint; retries 429, 5xx, LimitExceededException
   * and requests without an answer (network errors, timeouts) with jittered backoff;
   * 410 -> "gone"; never throws. With a `deadline`, no attempt outlives it.
   */
  post(connectionId: string, data: Uint8Array, limits?: PostLimits): Promise<PostOutcome>;
  /** Closes the keep-alive sockets. */
  destroy(): void;
}

export type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

export type TransportOptions = {
  /** `https://{api}.execute-api.{region}.amazonaws.com/{stage}`, or an origin such as `http://127.0.0.1:3001`. */
  endpoint: string;
  region: string;
  /** Default: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, as Lambda sets them. */
  credentials?: Credentials;
  /** Attempts per post, the first included. */
  maxAttempts: number;
  /** Per attempt: an attempt without a complete answer by then is aborted and retried. */
  timeoutMs: number;
  /** Keep-alive sockets to the endpoint (the posts in flight at once beyond this wait for one). */
  maxSockets: number;
  /** Told of every post that ends "failed", with the last error. */
  onFailure?: (connectionId: string, error: unknown) => void;
  /** Told of every attempt answered 429 or LimitExceededException, even if a retry then delivers (ThrottledPosts). */
  onThrottled?: (connectionId: string) => void;
  /**
   * Told of every attempt that ended with no answer (a timeout, an abort, a broken socket): its
   * frame may have arrived, so whatever posts it again (a retry here, a retry job, the safety
   * net) may repeat it (Repeats).
   */
  onUnanswered?: (connectionId: string) => void;
  /**
   * Full-jitter exponential backoff: before retry n, a random wait below min(capMs, baseMs × 2^(n-1)).
   * `random` (in [0, 1)) and `wait` default to Math.random and a timer; tests pass their own.
   */
  backoff?: { baseMs: number; capMs: number; random?: () => number; wait?: (ms: number) => Promise<void> };
};

/** The Management API's answer to a post that did not go through, or the request's own failure. */
export class PostFailedError extends Error {
  constructor(
    message: string,
    readonly attempts: number,
    readonly status?: number,
    readonly errorType?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "PostFailedError";
  }
}

/** One attempt: an HTTP answer, or no answer at all (network error, timeout). */
type Attempt = { status: number; errorType?: string; body?: string } | { error: Error };

const defaultBackoff = { baseMs: 50, capMs: 1000 };
/** Error bodies are short JSON (`{"message":"Gone"}`); more is not worth keeping. */
const maxErrorBodyBytes = 1024;

function credentialsFromEnv(env: NodeJS.ProcessEnv): Credentials {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = env;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error(
      "createTransport: no credentials given and AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set",
    );
  }
  return { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN || undefined };
}

/** `x-amzn-ErrorType` may carry a suffix: `LimitExceededException:http://internal.amazon.com/...`. */
const errorTypeOf = (res: IncomingMessage) => {
  const header = res.headers["x-amzn-errortype"];
  return typeof header === "string" ? header.split(":")[0] : undefined;
};

const throttled = (attempt: Attempt) =>
  "status" in attempt && (attempt.status === 429 || attempt.errorType === "LimitExceededException");

const worthRetrying = (attempt: Attempt) =>
  "error" in attempt ||
  attempt.status === 429 ||
  attempt.status >= 500 ||
  attempt.errorType === "LimitExceededException";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * PostToConnection without the SDK: one aws4-signed (SigV4, service
 * `execute-api`) POST on a keep-alive socket per attempt. It costs a fraction of
 * the SDK's CPU per delivery (bench/transport-cpu.ts), which is what bounds a
 * Lambda's fan-out. Clients and sockets are made here, never at import, so
 * Pulumi can serialize the module.
 *
 * @example
 * const transport = createTransport({
 *   endpoint: "https://abc123.execute-api.us-east-1.amazonaws.com/dev",
 *   region: "us-east-1",
 *   maxAttempts: 3,
 *   timeoutMs: 3000,
 *   maxSockets: 32,
 *   onFailure: (connectionId, error) => log.error("post failed", { connectionId, error }),
 * });
 * const outcome = await transport.post(connectionId, Buffer.from(JSON.stringify(frame)));
 * if (outcome === "gone") gone.push(connectionId);
 */
export function createTransport(options: TransportOptions): Transport {
  const url = new URL(options.endpoint);
  const secure = url.protocol === "https:";
  const agent = secure
    ? new HttpsAgent({ keepAlive: true, maxSockets: options.maxSockets })
    : new HttpAgent({ keepAlive: true, maxSockets: options.maxSockets });
  const send = secure ? httpsRequest : httpRequest;
  const stagePath = url.pathname.replace(/\/+$/, "");
  const credentials = options.credentials ?? credentialsFromEnv(process.env);
  const backoff: NonNullable<TransportOptions["backoff"]> = options.backoff ?? defaultBackoff;
  const random = backoff.random ?? Math.random;
  const wait = backoff.wait ?? sleep;
  const maxAttempts = Math.max(1, options.maxAttempts);

  function attempt(
    path: string,
    data: Uint8Array,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<Attempt> {
    const signed = aws4.sign(
      {
        host: url.host,
        path,
        method: "POST",
        service: "execute-api",
        region: options.region,
        headers: { "Content-Type": "application/octet-stream" },
        body: data as Buffer,
      },
      credentials,
    );
    return new Promise((resolve) => {
      let settled = false;
      // Declared before `settle` uses it: Pulumi's closure serializer refuses a later `const`.
      // eslint-disable-next-line prefer-const -- assigned once below, after the request exists
      let timer: NodeJS.Timeout | undefined;
      let stopListening = () => {};
      const settle = (result: Attempt) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        stopListening();
        resolve(result);
      };
      const req = send(
        { hostname: url.hostname, port: url.port, path, method: "POST", headers: signed.headers, agent },
        (res) => {
          const status = res.statusCode ?? 0;
          res.on("error", (error) => settle({ error }));
          if (status >= 200 && status < 300) {
            res.resume();
            res.once("end", () => settle({ status }));
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            if (size < maxErrorBodyBytes) chunks.push(chunk);
            size += chunk.length;
          });
          res.once("end", () =>
            settle({
              status,
              errorType: errorTypeOf(res),
              body: Buffer.concat(chunks).subarray(0, maxErrorBodyBytes).toString("utf8"),
            }),
          );
        },
      );
      // A hung PostToConnection would hold the socket and the fan-out: give up on the attempt.
      timer = setTimeout(() => {
        const error = new Error(`no answer within ${timeoutMs} ms`);
        error.name = "TimeoutError";
        settle({ error });
        req.destroy(error);
      }, timeoutMs);
      req.on("error", (error) => settle({ error }));
      if (signal) {
        const abort = () => {
          const error = signal.reason as Error;
          settle({ error });
          req.destroy(error);
        };
        signal.addEventListener("abort", abort, { once: true });
        stopListening = () => signal.removeEventListener("abort", abort);
      }
      req.end(data);
    });
  }

  function failure(connectionId: string, last: Attempt, attempts: number) {
    if ("error" in last) {
      return new PostFailedError(
        `post to ${connectionId} failed after ${attempts} attempt(s): ${last.error.message}`,
        attempts,
        undefined,
        undefined,
        { cause: last.error },
      );
    }
    return new PostFailedError(
      `post to ${connectionId} answered ${last.status}${last.errorType ? ` ${last.errorType}` : ""}` +
        ` after ${attempts} attempt(s)${last.body ? `: ${last.body}` : ""}`,
      attempts,
      last.status,
      last.errorType,
    );
  }

  function reportFailure(connectionId: string, error: unknown, outcome: PostOutcome = "failed"): PostOutcome {
    try {
      options.onFailure?.(connectionId, error);
    } catch {
      // A logging hook must not turn a failed post into a thrown one.
    }
    return outcome;
  }

  function tell(hook: ((connectionId: string) => void) | undefined, connectionId: string) {
    try {
      hook?.(connectionId);
    } catch {
      // Nor a metrics hook.
    }
  }

  return {
    async post(connectionId, data, limits = {}) {
      try {
        const path = `${stagePath}/@connections/${encodeURIComponent(connectionId)}`;
        const attempts = Math.max(1, Math.min(maxAttempts, limits.maxAttempts ?? maxAttempts));
        const deadline = limits.deadline ?? Infinity;
        const { signal } = limits;
        for (let n = 1; ; n++) {
          if (signal?.aborted) {
            return reportFailure(
              connectionId,
              failure(connectionId, { error: signal.reason as Error }, n - 1),
            );
          }
          const timeoutMs = Math.min(options.timeoutMs, deadline - Date.now());
          if (timeoutMs <= 0) {
            return reportFailure(
              connectionId,
              new PostFailedError(`post to ${connectionId}: out of time`, n - 1),
            );
          }
          const result = await attempt(path, data, timeoutMs, signal);
          if ("status" in result && result.status >= 200 && result.status < 300) return "delivered";
          if ("status" in result && result.status === 410) return "gone";
          if (throttled(result)) tell(options.onThrottled, connectionId);
          if ("error" in result) tell(options.onUnanswered, connectionId);
          if (!worthRetrying(result) || n >= attempts || signal?.aborted) {
            const outcome = throttled(result) ? "throttled" : "failed";
            return reportFailure(connectionId, failure(connectionId, result, n), outcome);
          }
          await wait(random() * Math.min(backoff.capMs, backoff.baseMs * 2 ** (n - 1)));
        }
      } catch (error) {
        return reportFailure(connectionId, error);
      }
    },
    destroy: () => agent.destroy(),
  };
}
