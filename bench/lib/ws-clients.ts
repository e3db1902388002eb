import pLimit from "p-limit";
import { WebSocket } from "ws";

/** Opens a `ws` client per URL, `concurrency` handshakes at a time. */
export async function openClients(urls: string[], concurrency = 16): Promise<WebSocket[]> {
  const limit = pLimit(concurrency);
  return Promise.all(
    urls.map((url) =>
      limit(
        () =>
          new Promise<WebSocket>((resolve, reject) => {
            const ws = new WebSocket(url, { perMessageDeflate: false });
            ws.once("open", () => resolve(ws));
            ws.once("unexpected-response", (_req, res) =>
              reject(new Error(`${url}: handshake ${res.statusCode}`)),
            );
            ws.once("error", reject);
          }),
      ),
    ),
  );
}

/** The next frame `ws` receives whose text includes `needle`. */
export function nextFrame(ws: WebSocket, needle: string, timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.off("message", listen);
      reject(new Error(`no frame with ${needle} within ${timeoutMs} ms`));
    }, timeoutMs);
    const listen = (data: Buffer) => {
      const text = data.toString();
      if (!text.includes(needle)) return;
      clearTimeout(timer);
      ws.off("message", listen);
      resolve(text);
    };
    ws.on("message", listen);
  });
}

/**
 * Times a broadcast at its recipients: `expect(marker)` resolves with the
 * moment (performance.now) the last watched client received a frame containing
 * the marker. Each client counts once per marker; the check is a byte search,
 * so watching a thousand clients costs the clock little.
 */
export function createDeliveryWatch() {
  const received: string[] = [];
  let current: { marker: string; bytes: Buffer; pending: number; done: (at: number) => void } | undefined;

  return {
    watch(ws: WebSocket) {
      const index = received.push("") - 1;
      ws.on("message", (data: Buffer) => {
        if (!current || received[index] === current.marker || !data.includes(current.bytes)) return;
        received[index] = current.marker;
        if (--current.pending === 0) current.done(performance.now());
      });
    },
    get size() {
      return received.length;
    },
    expect(marker: string, timeoutMs = 120_000): Promise<number> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const missing = current?.pending;
          current = undefined;
          reject(
            new Error(`${missing} of ${received.length} clients got no ${marker} within ${timeoutMs} ms`),
          );
        }, timeoutMs);
        current = {
          marker,
          bytes: Buffer.from(marker),
          pending: received.length,
          done: (at) => {
            clearTimeout(timer);
            current = undefined;
            resolve(at);
          },
        };
      });
    },
  };
}
