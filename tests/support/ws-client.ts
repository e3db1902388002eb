import { WebSocket, type ClientOptions } from "ws";

export type Frame = Record<string, unknown>;
export type Closed = { code: number; reason: string };

/**
 * A real `ws` client for tests: every text frame it receives is kept (parsed as
 * JSON when it is JSON), so a test can wait for the next one that matches.
 */
export type TestClient = {
  ws: WebSocket;
  /** Every frame received so far, in order. */
  frames: (Frame | string)[];
  /** When each of `frames` arrived (Date.now(), the clock that stamps `sentAt`), by index. */
  arrivedAt: number[];
  send(frame: object | string): void;
  /** The first frame not yet taken that matches, waiting for it if need be. */
  next(match?: (frame: Frame) => boolean): Promise<Frame>;
  /** Settles when the connection closes, with the close code the client got. */
  closed: Promise<Closed>;
  close(code?: number, reason?: string): Promise<Closed>;
};

export function connect(url: string, options: ClientOptions = {}): Promise<TestClient> {
  const ws = new WebSocket(url, options);
  const frames: (Frame | string)[] = [];
  const arrivedAt: number[] = [];
  const taken = new Set<number>();
  const waiters: (() => void)[] = [];
  ws.on("message", (data: Buffer, isBinary) => {
    const text = data.toString("utf8");
    let frame: Frame | string = isBinary ? `binary:${data.toString("hex")}` : text;
    try {
      frame = JSON.parse(text) as Frame;
    } catch {
      // not JSON: kept as the raw text
    }
    frames.push(frame);
    arrivedAt.push(Date.now());
    for (const wake of waiters.splice(0)) wake();
  });
  const closed = new Promise<Closed>((resolve) =>
    ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );

  const client: TestClient = {
    ws,
    frames,
    arrivedAt,
    send: (frame) => ws.send(typeof frame === "string" ? frame : JSON.stringify(frame)),
    next(match = () => true) {
      return new Promise((resolve, reject) => {
        const look = () => {
          const index = frames.findIndex(
            (f, i) => !taken.has(i) && typeof f === "object" && f !== null && match(f),
          );
          if (index >= 0) {
            taken.add(index);
            return resolve(frames[index] as Frame);
          }
          if (ws.readyState === WebSocket.CLOSED) {
            return reject(new Error(`closed while waiting; frames: ${JSON.stringify(frames)}`));
          }
          waiters.push(look);
        };
        look();
        void closed.then(() => waiters.length && waiters.splice(0).forEach((wake) => wake()));
      });
    },
    closed,
    close(code, reason) {
      ws.close(code, reason);
      return closed;
    },
  };
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve(client));
    ws.once("unexpected-response", (_req, res) => reject(new Error(`handshake answered ${res.statusCode}`)));
    // Errors after the handshake end in 'close', which `closed` reports.
    ws.on("error", reject);
  });
}

/** The HTTP status a handshake is answered with when it does not upgrade. */
export function handshakeStatus(url: string, options: ClientOptions = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once("open", () => {
      resolve(101);
      ws.close();
    });
    ws.once("error", (error) => reject(error));
  });
}

/** Sends an action and waits for its reply: the next frame of `type`, or an error about that action. */
export async function ask(
  client: TestClient,
  frame: Record<string, unknown> & { action: string },
  type: string,
): Promise<Frame> {
  client.send(frame);
  return client.next((f) => f.type === type || (f.type === "error" && f.action === frame.action));
}
