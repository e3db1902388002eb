import type { Browser, Page } from "playwright-core";
import type { LocalStack } from "../../local/stack";
import {
  delivered,
  launchChromium,
  log,
  openChat as openChatPage,
  say,
  startWebStack,
} from "../support/web-page";

// The web client's private rooms, invitation links, moderation, edits and deletes, and how it
// lays out a log, in headless Chromium against one local stack (auth off: guests by name).

jest.setTimeout(60_000);

let stack: LocalStack;
let browser: Browser;

beforeAll(async () => {
  stack = await startWebStack();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const openChat = (name: string, room: string, options?: Parameters<typeof openChatPage>[4]) =>
  openChatPage(browser, stack.httpUrl, name, room, options);

const button = (page: Page, name: string) => page.getByRole("button", { name, exact: true });
const errorBanner = (page: Page) => page.getByRole("alert");
const yourRooms = (page: Page) => page.locator("#room-list");

async function joinByName(page: Page, room: string) {
  await page.getByLabel("Join a room").fill(room);
  await button(page, "Join").click();
}

describe("private rooms, invitation links and moderation", () => {
  let ann: Page;
  let bo: Page;
  let inviteLink: string;

  beforeAll(async () => {
    ann = await openChat("ann", "hall");
    bo = await openChat("bo", "hall");
  });

  it("creates a private room and gives its owner an invitation link", async () => {
    await ann.getByLabel("Create a room").fill("den");
    expect(await ann.getByLabel("Private (invitation only)").isChecked()).toBe(true);
    await button(ann, "Create").click();
    await ann.getByRole("heading", { name: "#den" }).waitFor();
    await say(ann, "welcome to the den");
    await delivered(ann, "den", "welcome to the den").waitFor();

    await button(ann, "Invite").click();
    const link = ann.getByLabel("Invitation link");
    await ann.waitForFunction(
      () => (document.getElementById("invite-link") as HTMLInputElement).value !== "",
    );
    inviteLink = await link.inputValue();
    const url = new URL(inviteLink);
    expect(url.origin).toBe(new URL(stack.httpUrl).origin);
    expect(url.hash).toMatch(/^#invite=den:[A-Za-z0-9_-]{16,64}$/);
  });

  it("refuses the room to a page without the link, and does not list it there", async () => {
    const cy = await openChat("cy", "hall");
    await joinByName(cy, "den");
    await errorBanner(cy)
      .getByText(/^FORBIDDEN: /)
      .waitFor();
    expect(await cy.getByRole("heading", { level: 2, name: /^#/ }).textContent()).toBe("#hall");
    expect(await yourRooms(cy).getByRole("button", { name: "#den" }).count()).toBe(0);
    await button(cy, "Refresh").click();
    await cy
      .locator("#all-rooms")
      .getByRole("button", { name: /^Join #hall/ })
      .waitFor();
    expect(
      await cy
        .locator("#all-rooms")
        .getByRole("button", { name: /^Join #den/ })
        .count(),
    ).toBe(0);
    await cy.context().close();
  });

  it("joins the room from the link in a fresh page, and in a connected page the link is pasted into", async () => {
    // A page with nothing saved connects by itself (as a guest) and joins with the code.
    const fresh = await (await browser.newContext()).newPage();
    await fresh.goto(inviteLink);
    await fresh.getByRole("heading", { name: "#den" }).waitFor();
    await delivered(fresh, "den", "welcome to the den").waitFor();
    // The code leaves the address bar once used.
    expect(new URL(fresh.url()).hash).toBe("");
    await fresh.context().close();

    await bo.goto(inviteLink);
    await bo.getByRole("heading", { name: "#den" }).waitFor();
    await delivered(bo, "den", "welcome to the den").waitFor();
    await log(ann, "den").getByText("bo joined").waitFor();
    // Members see the room marked private in All rooms.
    await button(bo, "Refresh").click();
    await bo
      .locator("#all-rooms")
      .getByRole("button", { name: /^Join #den \(private, / })
      .waitFor();
  });

  it("lets the owner promote a member from the member list, and the member's page offers what the role allows", async () => {
    expect(await button(bo, "Invite").isVisible()).toBe(false);
    await button(ann, "Members").click();
    const members = ann.getByRole("list", { name: "Members of this room" });
    await members.getByText("bo", { exact: true }).waitFor();
    // Nobody acts on themselves: the owner's own entry has no actions.
    expect(await members.getByRole("button", { name: /ann$/ }).count()).toBe(0);
    await members.getByRole("button", { name: "Make moderator bo" }).click();
    await log(ann, "den").getByText("bo is now a moderator").waitFor();
    await log(bo, "den").getByText("ann made you a moderator of #den").waitFor();
    await button(bo, "Invite").waitFor();
    // A moderator may delete anyone's message.
    await delivered(bo, "den", "welcome to the den")
      .getByRole("button", { name: "Delete: welcome to the den" })
      .waitFor();
    await members.getByRole("button", { name: "Make member bo" }).waitFor();
  });

  it("lets the owner kick a member: the member's page says so and drops the room", async () => {
    const members = ann.getByRole("list", { name: "Members of this room" });
    await members.getByRole("button", { name: "Kick bo" }).click();
    await errorBanner(bo).getByText("ann removed you from #den").waitFor();
    await yourRooms(bo).getByRole("button", { name: "#den" }).waitFor({ state: "detached" });
    await log(ann, "den").getByText("bo was removed").waitFor();
    await log(ann, "den").getByText("You removed bo from #den").waitFor();
  });

  it("lets the owner ban a member: the member's page says so and the link no longer lets it in", async () => {
    // Let back in with the link (a kick is not a ban).
    await bo.goto(inviteLink);
    await bo.getByRole("heading", { name: "#den" }).waitFor();
    await log(ann, "den").getByText("bo joined").last().waitFor();
    const members = ann.getByRole("list", { name: "Members of this room" });
    await members.getByRole("button", { name: "Ban bo" }).click();
    await errorBanner(bo).getByText("ann banned you from #den").waitFor();
    await yourRooms(bo).getByRole("button", { name: "#den" }).waitFor({ state: "detached" });

    await bo.goto(inviteLink);
    await errorBanner(bo)
      .getByText(/^BANNED: /)
      .waitFor();
    expect(await yourRooms(bo).getByRole("button", { name: "#den" }).count()).toBe(0);
  });

  it("learns its role from the member list when its saved rooms lost it", async () => {
    await ann.evaluate(() => {
      const saved = JSON.parse(localStorage.getItem("roomcast.rooms")!) as { rooms: { role?: string }[] };
      for (const room of saved.rooms) delete room.role;
      localStorage.setItem("roomcast.rooms", JSON.stringify(saved));
    });
    await ann.reload();
    await yourRooms(ann).getByRole("button", { name: "#den" }).click();
    await ann.getByRole("heading", { name: "#den" }).waitFor();
    await ann.locator("#show-members:enabled").waitFor();
    expect(await button(ann, "Invite").isVisible()).toBe(false);
    await button(ann, "Members").click();
    await button(ann, "Invite").waitFor();
  });
});

describe("edits and deletes", () => {
  it("edits and deletes its own messages, live in another page and in history after a reload", async () => {
    const eve = await openChat("eve", "notes");
    const fay = await openChat("fay", "notes");
    await say(eve, "first draft");
    await say(eve, "to be removed");
    await delivered(fay, "notes", "to be removed").waitFor();
    // Only the author is offered Edit; a member who is no moderator nothing at all.
    expect(await delivered(fay, "notes", "first draft").getByRole("button").count()).toBe(0);

    await delivered(eve, "notes", "first draft").getByRole("button", { name: "Edit: first draft" }).click();
    await eve.getByLabel("Edit message").fill("final text");
    await button(eve, "Save").click();
    const edited = delivered(fay, "notes", "final text");
    await edited.getByText("(edited)").waitFor();
    await delivered(eve, "notes", "final text").getByText("(edited)").waitFor();

    await delivered(eve, "notes", "to be removed")
      .getByRole("button", { name: "Delete: to be removed" })
      .click();
    const tombstone = (page: Page) =>
      log(page, "notes").locator(".message.deleted").getByText("This message was deleted");
    await tombstone(fay).waitFor();
    await tombstone(eve).waitFor();
    expect(await log(fay, "notes").getByText("to be removed").count()).toBe(0);

    // History: a late joiner's page shows the edit and the tombstone.
    const gus = await openChat("gus", "notes");
    await delivered(gus, "notes", "final text").getByText("(edited)").waitFor();
    await tombstone(gus).waitFor();

    // After a reload the older messages come with Load older, and eve may still edit hers.
    await eve.reload();
    await eve.getByRole("heading", { name: "#notes" }).waitFor();
    await button(eve, "Load older messages").click();
    const mine = delivered(eve, "notes", "final text");
    await mine.getByText("(edited)").waitFor();
    await mine.getByRole("button", { name: "Edit: final text" }).waitFor();
    await tombstone(eve).waitFor();
    for (const page of [eve, fay, gus]) await page.context().close();
  });
});

describe("the log's layout", () => {
  it("separates days and groups consecutive messages of one sender", async () => {
    const dayMs = 24 * 60 * 60_000;
    // Messages whose text says so arrive as if sent a day earlier.
    const hal = await openChat("hal", "days", {
      intercept: (ws) => {
        const server = ws.connectToServer();
        server.onMessage((message) => {
          const frame = JSON.parse(String(message)) as { type?: string; text?: string; sentAt?: string };
          if (frame.type === "message" && frame.text?.startsWith("yesterday") && frame.sentAt)
            frame.sentAt = new Date(Date.parse(frame.sentAt) - dayMs).toISOString();
          ws.send(JSON.stringify(frame));
        });
      },
    });
    const ida = await openChat("ida", "days");
    for (const text of ["yesterday 1", "yesterday 2", "today 1", "today 2"]) await say(ida, text);
    await delivered(hal, "days", "today 2").waitFor();
    await say(hal, "hal's reply");
    await delivered(hal, "days", "hal's reply").waitFor();

    const lines = await log(hal, "days")
      .locator("li")
      .evaluateAll((items) =>
        items.map((item) =>
          item.classList.contains("day")
            ? `day: ${item.textContent}`
            : item.classList.contains("message")
              ? `${item.classList.contains("continued") ? "  " : ""}${item.querySelector(".text")!.textContent}`
              : `note: ${item.textContent}`,
        ),
      );
    expect(lines).toEqual([
      "note: ida joined",
      "day: Yesterday",
      "yesterday 1",
      "  yesterday 2",
      "day: Today",
      "today 1",
      "  today 2",
      "hal's reply",
    ]);
    // A grouped message shows no name line of its own.
    const second = delivered(hal, "days", "yesterday 2");
    expect(await second.locator(".from").isVisible()).toBe(false);
    expect(await delivered(hal, "days", "yesterday 1").locator(".from").isVisible()).toBe(true);
    for (const page of [hal, ida]) await page.context().close();
  });
});
