import { randomUUID } from "node:crypto";
import { chromium, type Browser, type Page, type WebSocketRoute } from "playwright-core";
import { createLogger } from "../../handlers/log";
import { freePort } from "../../local/dynamodb-local";
import { startLocalStack, type LocalStackOptions } from "../../local/stack";
import { findChromium } from "./chromium";

// The web client in headless Chromium (CHROMIUM_PATH or an installed one, see
// tests/support/chromium.ts), shared by the tests/stack/browser*.test.ts files.
const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A local stack for the page (on the test's DynamoDB Local), logging only problems. */
export const startWebStack = async (options: LocalStackOptions = {}) =>
  startLocalStack({
    port: await freePort(),
    dynamodbEndpoint: process.env.DYNAMODB_ENDPOINT,
    tableName: `roomcast-web-${randomUUID().slice(0, 8)}`,
    logger: createLogger({}, (line) => {
      if (!line.startsWith('{"level":"info"')) console.warn(line);
    }),
    ...options,
  });

export const launchChromium = () => chromium.launch({ executablePath: findChromium(), args: chromiumArgs });

export type OpenChatOptions = {
  /** Sits between the page and the gateway (it must connect and forward itself). */
  intercept?: (ws: WebSocketRoute) => void;
  /** The page's timers on Playwright's clock: they fire only when the test moves it on. */
  fakeClock?: boolean;
  /** With auth on: connects with this token (its `name` claim is the page's name, not `name`). */
  token?: string;
};

/** A fresh browser profile on the page at `url`, connected as `name` with `room` as its default room. */
export async function openChat(
  browser: Browser,
  url: string,
  name: string,
  room: string,
  { intercept, fakeClock = false, token }: OpenChatOptions = {},
): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  if (intercept) await page.routeWebSocket(/./, intercept);
  if (fakeClock) await page.clock.install();
  await page.goto(url);
  // The server URL comes from /config.json.
  await page.waitForFunction(() => (document.getElementById("ws-url") as HTMLInputElement).value !== "");
  if (token) await page.getByLabel("Token").fill(token);
  else await page.getByLabel("Name").fill(name);
  await page.getByLabel("Room", { exact: true }).fill(room);
  await page.getByRole("button", { name: "Connect", exact: true }).click();
  await page.getByRole("heading", { name: `#${room}` }).waitFor();
  await page.locator("#message:enabled").waitFor();
  return page;
}

// A room's log, shown or not: only the active room's is visible, the others are in the page, hidden
// (getByRole leaves hidden elements out unless told otherwise).
export const log = (page: Page, room: string) =>
  page.getByRole("log", { name: `Messages in ${room}`, includeHidden: true });

/** A message in the room's log that the server has stored (acknowledged, or received). */
export const delivered = (page: Page, room: string, text: string) =>
  log(page, room)
    .locator(".message:not(.pending)")
    .filter({ has: page.locator(".text").getByText(text, { exact: true }) });

export async function say(page: Page, text: string) {
  await page.getByLabel("Message", { exact: true }).fill(text);
  await page.getByRole("button", { name: "Send", exact: true }).click();
}
