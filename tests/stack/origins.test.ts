import type { LocalStack } from "../../local/stack";
import { startTestStack } from "../support/local-stack";
import { handshakeStatus } from "../support/ws-client";

// Any website a user visits could otherwise open a WebSocket to their local chat (as them) and
// frame the page: the gateway takes handshakes only from its own page's origin (or none), and
// the page sends a Content-Security-Policy.
let stack: LocalStack;
let configured: LocalStack;
beforeAll(async () => {
  stack = await startTestStack();
  configured = await startTestStack({ gateway: { allowedOrigins: ["https://chat.example.com"] } });
});
afterAll(async () => {
  await stack?.stop();
  await configured?.stop();
});

test("a handshake from another site's page is refused with 403; the gateway's own page and wscat get through", async () => {
  const origin = (value: string) => ({ headers: { Origin: value } });
  expect(await handshakeStatus(`${stack.wsUrl}?name=eve`, origin("https://evil.example"))).toBe(403);
  expect(await handshakeStatus(`${stack.wsUrl}?name=eve`, origin("null"))).toBe(403);
  expect(await handshakeStatus(`${stack.wsUrl}?name=eve`, origin(`http://localhost:${stack.port}1`))).toBe(
    403,
  );
  expect(await handshakeStatus(`${stack.wsUrl}?name=ann`, origin(`http://localhost:${stack.port}`))).toBe(
    101,
  );
  expect(await handshakeStatus(`${stack.wsUrl}?name=ann`, origin(`http://127.0.0.1:${stack.port}`))).toBe(
    101,
  );
  // wscat and servers send no Origin: not a page, nothing to protect the user from.
  expect(await handshakeStatus(`${stack.wsUrl}?name=bob`)).toBe(101);
});

test("configured origins replace the default", async () => {
  const origin = (value: string) => ({ headers: { Origin: value } });
  expect(await handshakeStatus(`${configured.wsUrl}?name=cy`, origin("https://chat.example.com"))).toBe(101);
  expect(
    await handshakeStatus(`${configured.wsUrl}?name=cy`, origin(`http://localhost:${configured.port}`)),
  ).toBe(403);
});

test("the page and its files carry a Content-Security-Policy: own files, this gateway, no framing", async () => {
  for (const path of ["/", "/app.js", "/config.json"]) {
    const res = await fetch(`${stack.httpUrl}${path}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toBe(
      `default-src 'self'; connect-src 'self' ws://localhost:${stack.port} ws://127.0.0.1:${stack.port}; ` +
        "frame-ancestors 'none'",
    );
  }
});
