import type { Browser, Page } from "playwright-core";
import { directRoomName } from "../../handlers/direct-rooms";
import { signToken } from "../../handlers/token";
import type { LocalStack } from "../../local/stack";
import { delivered, launchChromium, log, openChat, say, startWebStack } from "../support/web-page";

// The web client with auth on, in headless Chromium: the member list names members by their
// token subject, so an owner promotes and kicks from it and anyone opens a direct message
// from it; a direct invitation is a notice with Join.

jest.setTimeout(60_000);

const secret = "browser-dm-test-secret-0123456789abcdef";
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

/** A page signed in as `name` (display name) with the subject `sub-<name>`, in `room`. */
async function signedIn(name: string, room: string) {
  const token = await signToken(secret, { sub: `sub-${name.toLowerCase()}`, name });
  return openChat(browser, stack.httpUrl, name, room, { token });
}

const button = (page: Page, name: string) => page.getByRole("button", { name, exact: true });
const errorBanner = (page: Page) => page.getByRole("alert");
const yourRooms = (page: Page) => page.locator("#room-list");
const memberList = (page: Page) => page.getByRole("list", { name: "Members of this room" });

/** The member list of the room on show, with `name` listed. */
async function showMembers(page: Page, name: string) {
  await button(page, "Members").click();
  await memberList(page).getByText(name, { exact: true }).waitFor();
  return memberList(page);
}

describe("with auth on", () => {
  let ann: Page;
  let bob: Page;
  let cy: Page;

  beforeAll(async () => {
    ann = await signedIn("Ann", "hall");
    bob = await signedIn("Bob", "hall");
    cy = await signedIn("Cy", "hall");
  });

  afterAll(async () => {
    for (const page of [ann, bob, cy]) await page?.context().close();
  });

  it("shows a direct invitation as a notice whose Join joins the private room", async () => {
    await ann.getByLabel("Create a room").fill("den");
    await button(ann, "Create").click();
    await ann.getByRole("heading", { name: "#den" }).waitFor();
    // The page has no control for a direct invitation: its frame goes on the page's own socket.
    await ann.evaluate(() =>
      (window as unknown as { roomcast: { socket: WebSocket } }).roomcast.socket.send(
        JSON.stringify({ action: "invite", room: "den", user: "sub-bob" }),
      ),
    );
    const notice = log(bob, "hall").locator(".presence").filter({ hasText: "Ann invited you to #den" });
    await notice.waitFor();
    await notice.getByRole("button", { name: "Join #den" }).click();
    await bob.getByRole("heading", { name: "#den" }).waitFor();
    await log(ann, "den").getByText("Bob joined").waitFor();
  });

  it("lets the owner promote a member from the member list, named by the token's subject", async () => {
    const members = await showMembers(ann, "Bob");
    // Nobody acts on themselves: the owner's own entry has no actions.
    expect(await members.getByRole("button", { name: /Ann$/ }).count()).toBe(0);
    await members.getByRole("button", { name: "Make moderator Bob" }).click();
    await log(ann, "den").getByText("Bob is now a moderator").waitFor();
    await log(bob, "den").getByText("Ann made you a moderator of #den").waitFor();
    await button(bob, "Invite").waitFor();
    await members.getByRole("button", { name: "Make member Bob" }).waitFor();
  });

  it("lets the owner kick a member from the member list: the member's page drops the room", async () => {
    await memberList(ann).getByRole("button", { name: "Kick Bob" }).click();
    await errorBanner(bob).getByText("Ann removed you from #den").waitFor();
    await yourRooms(bob).getByRole("button", { name: "#den" }).waitFor({ state: "detached" });
    await log(ann, "den").getByText("You removed Bob from #den").waitFor();
  });

  it("opens a direct message from the member list; the other page gets it labelled with the sender's name", async () => {
    const dm = directRoomName("sub-bob", "sub-cy");
    await yourRooms(bob).getByRole("button", { name: "#hall" }).click();
    const members = await showMembers(bob, "Cy");
    await members.getByRole("button", { name: "Message Ann" }).waitFor();
    expect(await members.getByRole("button", { name: "Message Bob" }).count()).toBe(0);
    await members.getByRole("button", { name: "Message Cy" }).click();
    await bob.getByRole("heading", { name: "@Cy" }).waitFor();
    await yourRooms(bob).getByRole("button", { name: "@Cy" }).waitFor();

    // Cy's page is joined by the server: the DM shows in the sidebar, and the room on show says so.
    await yourRooms(cy).getByRole("button", { name: "@Bob" }).waitFor();
    const notice = log(cy, "hall")
      .locator(".presence")
      .filter({ hasText: "Bob opened a direct message with you" });
    await notice.getByRole("button", { name: "Open @Bob" }).click();
    await cy.getByRole("heading", { name: "@Bob" }).waitFor();

    await say(bob, "just us, cy");
    await delivered(cy, dm, "just us, cy").waitFor();
    await say(cy, "hi bob");
    await delivered(bob, dm, "hi bob").waitFor();

    // A reload keeps the DM, labelled, and rejoins it: what comes next arrives.
    await cy.reload();
    await yourRooms(cy).getByRole("button", { name: "@Bob" }).click();
    await cy.getByRole("heading", { name: "@Bob" }).waitFor();
    await cy
      .getByRole("status")
      .getByText(/^Connected/)
      .waitFor();
    await say(bob, "still there?");
    await delivered(cy, dm, "still there?").waitFor();
  });
});
