import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import aws4 from "aws4";
import pLimit from "p-limit";

export type LeanPostOptions = {
  /** `https://{api}.execute-api.{region}.amazonaws.com/{stage}`, or the local gateway's origin. */
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Posts in flight at once, and the keep-alive sockets kept for them. */
  concurrency: number;
};

/**
 * PostToConnection without the SDK: a SigV4-signed (aws4) POST on a keep-alive
 * socket, nothing else. The candidate "lean transport" of benchmark 2, measured
 * against `PostToConnectionCommand` on the same endpoint.
 */
export function createLeanPoster(options: LeanPostOptions) {
  const url = new URL(options.endpoint);
  const https = url.protocol === "https:";
  const agent = new (https ? HttpsAgent : HttpAgent)({ keepAlive: true, maxSockets: options.concurrency });
  const send = https ? httpsRequest : httpRequest;
  const stagePath = url.pathname.replace(/\/$/, "");

  /** Resolves with the HTTP status: 200 delivered, 410 gone. */
  function post(connectionId: string, data: Buffer): Promise<number> {
    const signed = aws4.sign(
      {
        host: url.host,
        path: `${stagePath}/@connections/${encodeURIComponent(connectionId)}`,
        method: "POST",
        service: "execute-api",
        region: options.region,
        body: data,
      },
      options.credentials,
    );
    return new Promise((resolve, reject) => {
      const req = send(
        {
          host: url.hostname,
          port: url.port,
          path: signed.path,
          method: "POST",
          headers: signed.headers,
          agent,
        },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode!));
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(data);
    });
  }

  return {
    /** Posts one frame to every connection, `concurrency` at a time; resolves with each status. */
    broadcast(connectionIds: readonly string[], frame: unknown): Promise<number[]> {
      const data = Buffer.from(JSON.stringify(frame));
      const limit = pLimit(options.concurrency);
      return Promise.all(connectionIds.map((id) => limit(() => post(id, data))));
    },
    destroy: () => agent.destroy(),
  };
}
