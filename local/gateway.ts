import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import type { Route, RouteResult, WebSocketEvent } from "../handlers/route";
import { createLogger, type Logger } from "../handlers/log";
import { originAllowed } from "../handlers/origins";
import { localAws } from "../model/client";
import { authorizeHandshake, type Authorize } from "./authorizer";
import { clientClose, gatewayCloses, protocolError, type CloseReason } from "./close-reasons";
import { closeConnection, isOpen, sendText, type Connection } from "./connections";
import {
  awsStyleId,
  connectEvent,
  disconnectEvent,
  messageEvent,
  peerOf,
  randomApiId,
  type EventSource,
  type Peer,
} from "./events";
import { createFrameGuard, frameLimits } from "./frame-limits";
import { createFrameScanner } from "./frame-scanner";
import { gatewayErrorFrame, type GatewayMessage } from "./gateway-errors";
import type { App } from "./handler-app";
import { isWebSocketUpgrade, rejectHandshake } from "./handshake";
import { createManagementApi, type Credentials } from "./management-api";
import { selectRoute } from "./route-selection";
import { createStaticSite } from "./static-site";
import { createStageThrottle, type StageThrottling } from "./throttle";
import { createThrottleBackoff } from "./throttle-backoff";

/** What the gateway itself runs: the routes (the workers are the event pipeline's). */
export type GatewayApp = Pick<App, "routes" | "deps" | "invoke">;

export type GatewayOptions = {
  /** 0 picks a free port. */
  port: number;
  /** Interface to listen on; loopback by default. */
  host?: string;
  stage?: string;
  /** The folder served at `/`. */
  webRoot: string;
  /** The handlers to run, read per event (so `--watch` can swap them); undefined until ready -> 503. */
  app: () => GatewayApp | undefined;
  /** Closes (1001) a connection without a data frame in either direction for this long (pings do not count); API Gateway: 10 minutes. */
  idleTimeoutMs?: number;
  /** Closes (1001) every connection this long after it opened; API Gateway: 2 hours. */
  maxDurationMs?: number;
  managementLatencyMs?: number;
  /**
   * The key pair whose SigV4 signatures the Management API accepts (403 otherwise);
   * `localAws` of model/client.ts by default; null accepts any request, signed or not.
   */
  managementCredentials?: Credentials | null;
  /** How long a route's integration may run before the client gets API Gateway's timeout frame: 29 s. */
  integrationTimeoutMs?: number;
  /** Stage throttling of incoming messages, a bucket per route (the Pulumi stage's route settings); none by default. */
  throttling?: StageThrottling;
  /** The clock (ms) the throttling buckets refill by; tests move their own. */
  throttlingClock?: () => number;
  /** Fault mode: `$disconnect` never fires (AWS only promises it best effort). */
  dropDisconnects?: boolean;
  /** A REQUEST authorizer on `$connect` (identity source `?token=`); none: connections are anonymous. */
  authorize?: Authorize;
  /**
   * Page origins whose handshakes are accepted (403 otherwise; none sent: accepted, like wscat's).
   * Default: the gateway's own page (`http://localhost:<port>`, `http://127.0.0.1:<port>`).
   */
  allowedOrigins?: readonly string[];
  log?: Logger;
};

export type Gateway = {
  port: number;
  httpUrl: string;
  wsUrl: string;
  /** Open connections right now. */
  connectionCount(): number;
  /**
   * Resolves once no handler run is going and no connection is midway through its close (its
   * `$disconnect` not yet fired): what the stream has to go through is then all written.
   */
  idle(timeoutMs?: number): Promise<void>;
  /** Closes every connection (each fires `$disconnect`), waits for the handlers, then closes the server. */
  stop(): Promise<void>;
};

export const apiGatewayDefaults = {
  idleTimeoutMs: 10 * 60_000,
  maxDurationMs: 2 * 60 * 60_000,
  integrationTimeoutMs: 29_000,
};

/** The gateway could not listen because another process holds its port. */
export class PortInUseError extends Error {
  constructor(readonly port: number) {
    super(`port ${port} is in use; set PORT=... to use another, e.g. PORT=${port + 1} npm start`);
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(error.code === "EADDRINUSE" ? new PortInUseError(port) : error),
    );
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

/**
 * A local stand-in for API Gateway's WebSocket API: one HTTP server for the
 * WebSocket endpoint, the Management API and the web client, running the route
 * handlers in-process exactly as Lambda would (see docs/design.md, "What the local
 * stack reproduces").
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const stage = options.stage ?? "local";
  const idleTimeoutMs = options.idleTimeoutMs ?? apiGatewayDefaults.idleTimeoutMs;
  const maxDurationMs = options.maxDurationMs ?? apiGatewayDefaults.maxDurationMs;
  const integrationTimeoutMs = options.integrationTimeoutMs ?? apiGatewayDefaults.integrationTimeoutMs;
  // A bucket per route, as API Gateway applies a stage's route throttling.
  const admit = options.throttling
    ? createStageThrottle(options.throttling, options.throttlingClock)
    : () => true;
  const log = options.log ?? createLogger({ service: "local-gateway" });
  const source: EventSource = { apiId: randomApiId(), stage, domainName: "localhost" };
  const connections = new Map<string, Connection>();
  // Handler runs still going; stop() waits for them before DynamoDB Local goes away.
  const running = new Set<Promise<unknown>>();
  let stopping = false;
  let stopped: Promise<void> | undefined;
  let port = options.port;

  function track(work: Promise<unknown>): void {
    running.add(work);
    const done = () => running.delete(work);
    work.then(done, (error) => {
      done();
      log.error("gateway failure", { error });
    });
  }

  /** Runs a route's handler; undefined when the integration itself failed (API Gateway: 500). */
  async function run(app: GatewayApp, route: Route, event: WebSocketEvent): Promise<RouteResult | undefined> {
    try {
      return await app.invoke(route, event, app.deps);
    } catch (error) {
      log.error("integration failed", {
        route: route.key,
        connectionId: event.requestContext.connectionId,
        error,
      });
      return undefined;
    }
  }

  async function fireDisconnect(peer: Peer, reason: CloseReason): Promise<void> {
    if (options.dropDisconnects) return;
    const app = options.app();
    const route = app?.routes.find((r) => r.key === "$disconnect");
    if (!app || !route) return;
    await run(app, route, disconnectEvent(source, peer, reason.code, reason.disconnectReason));
  }

  /** API Gateway's own reply when no route matched, the integration failed or timed out, or throttling. */
  function gatewayError(connection: Connection, message: GatewayMessage, requestId = awsStyleId()) {
    if (!isOpen(connection)) return;
    sendText(connection, gatewayErrorFrame(message, connection.connectionId, requestId));
  }

  /** The integration's result, or "timeout" once it has run for the integration timeout; its late result is dropped. */
  function withinTimeout(invocation: Promise<RouteResult | undefined>) {
    // The Lambda runs on past API Gateway's timeout: stop() still waits for it.
    track(invocation);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">(
      (done) => (timer = setTimeout(() => done("timeout"), integrationTimeoutMs)),
    );
    return Promise.race([invocation, timeout]).finally(() => clearTimeout(timer));
  }

  async function dispatch(
    connection: Connection,
    app: GatewayApp,
    route: Route,
    body: string,
  ): Promise<void> {
    const event = messageEvent(source, connection, route.key, body);
    const { requestId } = event.requestContext;
    const result = await withinTimeout(run(app, route, event));
    if (result === "timeout") {
      log.warn("integration timed out", {
        route: route.key,
        connectionId: connection.connectionId,
        integrationTimeoutMs,
      });
      return gatewayError(connection, "Endpoint request timed out", requestId);
    }
    if (!result) return gatewayError(connection, "Internal server error", requestId);
    if (!route.routeResponse || result.body === undefined) return;
    // API Gateway cannot send a message over 128 KB, in either direction. AWS documents no frame for
    // an oversized route response: the client gets the one it gets when the integration fails.
    if (Buffer.byteLength(result.body) > frameLimits.messageBytes) {
      log.error("route response over 131072 bytes dropped", {
        route: route.key,
        connectionId: connection.connectionId,
        bytes: Buffer.byteLength(result.body),
      });
      return gatewayError(connection, "Internal server error", requestId);
    }
    if (isOpen(connection)) sendText(connection, result.body);
  }

  function open(peer: Peer, ws: WebSocket, socket: Socket): void {
    let resolveClosed!: () => void;
    const connection: Connection = {
      ...peer,
      ws,
      lastActiveAt: Date.now(),
      refreshIdle: () => idle.refresh(),
      closed: new Promise((resolve) => (resolveClosed = resolve)),
    };
    connections.set(peer.connectionId, connection);

    // ws reassembles fragments; the frame limits are checked on the raw bytes first.
    const guard = createFrameGuard();
    socket.prependListener(
      "data",
      createFrameScanner((frame) => {
        const violation = guard(frame);
        if (violation) closeConnection(connection, violation);
      }),
    );
    const idle = setTimeout(() => closeConnection(connection, gatewayCloses.idle), idleTimeoutMs);
    const lifetime = setTimeout(() => closeConnection(connection, gatewayCloses.maxDuration), maxDurationMs);
    const backoff = createThrottleBackoff(ws);

    ws.on("message", (data: Buffer) => {
      // Frames that arrive after the gateway decided to close are never routed.
      if (connection.closedBy) return;
      connection.lastActiveAt = Date.now();
      connection.refreshIdle();
      const body = data.toString("utf8");
      const app = options.app()!;
      const route = selectRoute(app.routes, body);
      if (!route) return gatewayError(connection, "Forbidden");
      // A throttled message is never routed: API Gateway answers it itself.
      if (!admit(route.key)) {
        backoff.throttled();
        return gatewayError(connection, "Too Many Requests");
      }
      track(dispatch(connection, app, route, body));
    });
    // ws has already sent its close frame for a frame it refused; 'close' follows.
    ws.on("error", (error) => {
      connection.closedBy ??= protocolError(error);
    });
    ws.once("close", (code: number, reason: Buffer) => {
      clearTimeout(idle);
      clearTimeout(lifetime);
      backoff.stop();
      connections.delete(peer.connectionId);
      const cause = connection.closedBy ?? clientClose(code, reason.toString());
      log.info("closed", {
        connectionId: peer.connectionId,
        by: connection.closedBy ? "gateway" : "client",
        code: cause.code,
        reason: cause.disconnectReason,
      });
      resolveClosed();
      track(fireDisconnect(peer, cause));
    });
  }

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: frameLimits.messageBytes,
    perMessageDeflate: false,
    clientTracking: false,
    // One message per event-loop turn per connection: a flooding client cannot hold the loop
    // for a whole 64 KB read of tiny frames while every other connection's handlers wait.
    allowSynchronousEvents: false,
    // API Gateway echoes a subprotocol only if `$connect` returns one; ours never do.
    handleProtocols: () => false,
  });

  async function upgrade(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    // A client that resets mid-handshake is its own business, not a crash.
    const ignore = () => socket.destroy();
    socket.on("error", ignore);
    const { pathname } = new URL(req.url ?? "/", "http://localhost");
    if (!isWebSocketUpgrade(req)) return rejectHandshake(socket, 400);
    if (pathname !== "/" && pathname.replace(/\/$/, "") !== `/${stage}`) return rejectHandshake(socket, 404);
    const app = options.app();
    if (!app || stopping) return rejectHandshake(socket, 503);

    // Another site's page must not drive a user's local chat: only configured origins.
    const allowedOrigins = options.allowedOrigins ?? pageOrigins();
    if (!originAllowed(req.headers.origin, allowedOrigins)) return rejectHandshake(socket, 403);
    const peer = peerOf(req);
    if (options.authorize) {
      const verdict = await authorizeHandshake(options.authorize, req, peer, source);
      if ("status" in verdict) return rejectHandshake(socket, verdict.status);
      peer.authorizer = verdict.context;
    }
    const connect = app.routes.find((r) => r.key === "$connect");
    if (connect) {
      const result = await run(app, connect, connectEvent(source, peer, req));
      const status = result?.statusCode ?? 500;
      if (status < 200 || status > 299) return rejectHandshake(socket, status);
    }
    // `$connect` succeeded, so the handlers know this connection: tell them it is gone.
    if (!socket.writable || stopping) {
      rejectHandshake(socket, 503);
      return fireDisconnect(peer, stopping ? gatewayCloses.shutdown : clientClose(1006, ""));
    }
    socket.removeListener("error", ignore);
    wss.handleUpgrade(req, socket, head, (ws) => open(peer, ws, socket));
  }

  const managementApi = createManagementApi({
    stage,
    latencyMs: options.managementLatencyMs,
    credentials:
      options.managementCredentials === undefined ? localAws.credentials : options.managementCredentials,
    find: (id) => connections.get(id),
  });
  const pageOrigins = () => [`http://localhost:${port}`, `http://127.0.0.1:${port}`];
  const site = createStaticSite(
    options.webRoot,
    // `auth`: the page asks for a token before it connects (a refused handshake shows it no status).
    { "/config.json": () => ({ wsUrl: `ws://localhost:${port}`, ...(options.authorize && { auth: true }) }) },
    // The page may load only its own files and talk only to this gateway; no site may frame it.
    () =>
      `default-src 'self'; connect-src 'self' ws://localhost:${port} ws://127.0.0.1:${port}; ` +
      "frame-ancestors 'none'",
  );
  const server = createServer((req, res) => {
    if (!managementApi(req, res)) track(site(req, res));
  });
  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) =>
    track(upgrade(req, socket, head)),
  );
  port = await listen(server, options.port, options.host ?? "127.0.0.1");

  async function stop() {
    stopping = true;
    await Promise.all(
      [...connections.values()].map(async (connection) => {
        closeConnection(connection, gatewayCloses.shutdown);
        // A client that never answers the close frame is cut off.
        const cutOff = setTimeout(() => connection.ws.terminate(), 1000);
        await connection.closed;
        clearTimeout(cutOff);
      }),
    );
    // The `$disconnect`s post to other connections through this server: keep it up until they finish.
    while (running.size > 0) await Promise.allSettled([...running]);
    wss.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  async function idle(timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    // A client's close resolves once the server has its close frame, before ws reports 'close'.
    const closing = () => [...connections.values()].some((c) => c.ws.readyState === c.ws.CLOSING);
    while (running.size > 0 || closing()) {
      if (Date.now() > deadline) throw new Error(`gateway not idle after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  return {
    port,
    httpUrl: `http://localhost:${port}`,
    wsUrl: `ws://localhost:${port}`,
    connectionCount: () => connections.size,
    idle,
    stop: () => (stopped ??= stop()),
  };
}
