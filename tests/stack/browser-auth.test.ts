import type { Browser, Page } from "playwright-core";
import { signToken } from "../../handlers/token";
import type { LocalStack } from "../../local/stack";
import { delivered, launchChromium, say, startWebStack } from "../support/web-page";

// The web client against a local stack that checks tokens (as a stack with authSecret does),
// in headless Chromium: it asks for a token, reads ?token=, and says why it cannot connect.

jest.setTimeout(60_000);

const secret = "browser-auth-test-secret-0123456789abcdef";
let stack: LocalStack;
let browser: Browser;

beforeAll(async () => {
  stack = await startWebStack({ authSecret: secret });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** A fresh profile on `url`, counting the WebSockets the page opens. */
async function openPage(url: string, { fakeClock = false } = {}) {
  const page = await (await browser.newContext()).newPage();
  const sockets = { opened: 0 };
  page.on("websocket", () => sockets.opened++);
  if (fakeClock) await page.clock.install();
  await page.goto(url);
  return { page, sockets };
}

const errorBanner = (page: Page) => page.getByRole("alert");
const status = (page: Page) => page.getByRole("status");
const pageSocket = (page: Page) =>
  page.evaluate(() => (window as unknown as { roomcast: { socket: WebSocket | null } }).roomcast.socket);

it("asks for a token and does not connect without one", async () => {
  const { page, sockets } = await openPage(stack.httpUrl);
  await errorBanner(page)
    .getByText(/^This server needs a token to connect/)
    .waitFor();
  expect(await status(page).textContent()).toBe("Not connected");
  expect(await page.getByLabel("Token").evaluate((input) => (input as HTMLInputElement).required)).toBe(true);
  // Connect without one asks again instead of trying.
  await page.getByRole("button", { name: "Connect", exact: true }).click();
  await errorBanner(page)
    .getByText(/^This server needs a token to connect/)
    .waitFor();
  expect(sockets.opened).toBe(0);
  await page.context().close();
});

it("says why it cannot connect with a refused token, and stops retrying", async () => {
  const { page, sockets } = await openPage(stack.httpUrl, { fakeClock: true });
  await page.getByLabel("Token").fill("not-a-token");
  await page.getByRole("button", { name: "Connect", exact: true }).click();
  await errorBanner(page)
    .getByText(/^Cannot connect: the server refused the handshake\. The token is probably expired/)
    .waitFor();
  expect(await status(page).textContent()).toBe("Not connected");
  // Well past every backoff the page would have waited: no new attempt.
  await page.clock.runFor(5 * 60_000);
  expect(sockets.opened).toBe(1);
  expect(await pageSocket(page)).toBeNull();
  expect(await status(page).textContent()).toBe("Not connected");
  await page.context().close();
});

it("reads ?token= from its address, connects as the token's user and keeps the token out of the address", async () => {
  const token = await signToken(secret, { sub: "user-tess", name: "tess" });
  const { page } = await openPage(`${stack.httpUrl}/?token=${encodeURIComponent(token)}`);
  await page.getByRole("heading", { name: "#lobby" }).waitFor();
  expect(new URL(page.url()).searchParams.has("token")).toBe(false);
  await say(page, "signed in");
  const mine = delivered(page, "lobby", "signed in");
  await mine.waitFor();
  expect(await mine.locator(".from").textContent()).toBe("tess");
  // A reload keeps the tab's token and resumes.
  await page.reload();
  await page.getByRole("heading", { name: "#lobby" }).waitFor();
  await status(page)
    .getByText(/^Connected/)
    .waitFor();
  await page.context().close();
});
